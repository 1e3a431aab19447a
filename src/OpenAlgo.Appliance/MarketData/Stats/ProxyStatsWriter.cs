using System.Buffers;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Stats;

/// <summary>
/// OpenAlgo's <c>WS_PROXY_STATS_FILE</c> (spec §6.6), every 10 s, atomically, in its exact shape —
/// <c>utils/health_monitor.py</c> reads it and ignores a file older than 60 s, so OpenAlgo's health
/// page keeps working with the appliance in front.
/// </summary>
internal sealed partial class ProxyStatsWriter(string path, MarketDataHub hub, TimeProvider time, ILogger<ProxyStatsWriter> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                Write();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.WriteFailed(logger, path, ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal void Write()
    {
        var users = hub.Sessions.Where(s => s.IsAuthenticated).GroupBy(s => s.UserId!).ToList();
        var brokers = new PyList(users.Select(g => g.First().Broker).Where(b => b is not null).Select(b => (PyValue)new PyStr(b!)).ToList());
        var stats = new PyDict()
            .Set("timestamp", new PyFloatValue(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0))
            .Set("total_connections", users.Count)
            .Set("total_symbols", hub.ActiveSubscriptionKeys())
            .Set("clients_connected", hub.ClientCount)
            .Set("brokers", brokers);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        AtomicFile.WriteAllBytes(path, PyJsonWriter.Serialize(stats), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static partial class Log
    {
        [LoggerMessage(1800, LogLevel.Warning, "Could not write the OpenAlgo stats file {Path}: {Reason}")]
        public static partial void WriteFailed(ILogger logger, string path, string reason);
    }
}
