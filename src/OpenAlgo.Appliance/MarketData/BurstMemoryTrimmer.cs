namespace OpenAlgo.Appliance.MarketData;

/// <summary>
/// Gives back the memory a burst of large client messages took, once the burst is over. The GC
/// only runs when something allocates, and with the server GC's large budgets a burst leaves the
/// heap grown (committed, mostly garbage) for as long as the process runs: measured before, 37 MB
/// before four clients sent 10,000-symbol subscribes and 40,000-key objects, 160–217 MB after, the
/// server idle. When at least <see cref="BurstBytes"/> went through <see cref="BulkMessageLane"/>
/// since the last time and the lane has been idle for <see cref="QuietFor"/>, one aggressive full
/// collection compacts the heap and decommits what is free. It blocks every thread while it runs,
/// so it is kept for after bursts: with a live heap of a few tens of MB it takes tens of
/// milliseconds, once, instead of holding the memory for good. Ordinary use never triggers it (an
/// SDK subscribing 3,000 symbols sends 135 KB).
/// </summary>
internal sealed partial class BurstMemoryTrimmer(BulkMessageLane lane, TimeProvider time, ILogger<BurstMemoryTrimmer> logger) : BackgroundService
{
    public const long BurstBytes = 64L << 20;
    public static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private long _trimmedAt;

    /// <summary>The collection itself; tests replace it.</summary>
    internal Action Collect { get; init; } = static () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    /// <summary>Times memory was given back.</summary>
    public int Trims { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) Check();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Collects if a burst is over; true when it did.</summary>
    internal bool Check()
    {
        long handled = lane.BytesHandled;
        if (handled - _trimmedAt < BurstBytes) return false;
        if (lane.Busy || time.GetElapsedTime(lane.LastFinished) < QuietFor) return false;
        long burst = handled - _trimmedAt;
        _trimmedAt = handled;
        long before = Environment.WorkingSet;
        long started = time.GetTimestamp();
        Collect();
        Trims++;
        Log.Trimmed(logger, burst >> 20, before >> 20, Environment.WorkingSet >> 20, time.GetElapsedTime(started).TotalMilliseconds);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1020, LogLevel.Information, "A burst of large client messages is over: memory given back ({ResidentBeforeMb} MB resident before, {ResidentAfterMb} MB after, {PauseMs:0} ms; {BurstMb} MB of messages)")]
        public static partial void Trimmed(ILogger logger, long burstMb, long residentBeforeMb, long residentAfterMb, double pauseMs);
    }
}
