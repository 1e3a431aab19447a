namespace OpenAlgo.Appliance.Observability;

/// <summary>Per-second rates of one site, from two consecutive collections of the meters.</summary>
internal sealed record SiteRates(double TicksPerSecond, double DeliveriesPerSecond, double ConflatedPerSecond, double? P50Seconds, double? P99Seconds);

/// <summary>One collection of the meters with the rates since the previous one.</summary>
internal sealed record TelemetrySample(MetricsSnapshot Metrics, IReadOnlyDictionary<string, SiteRates> Rates)
{
    public SiteRates RatesOf(string site) => Rates.GetValueOrDefault(site) ?? new SiteRates(0, 0, 0, null, null);
}

/// <summary>
/// Collects the meters once a second (through <see cref="MeterReader"/>), turns counters into
/// per-second rates and latency buckets into p50/p99, and keeps the last <see cref="HistoryLength"/>
/// samples for the status page's charts. The page's event stream waits on <see cref="NextAsync"/>.
/// </summary>
internal sealed class TelemetrySampler(MeterReader reader, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    public const int HistoryLength = 180;

    private readonly Lock _gate = new();
    private readonly Queue<TelemetrySample> _history = new();
    private TelemetrySample? _latest;
    private TaskCompletionSource<TelemetrySample> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The newest sample; before the first tick of the timer, a collection made now (rates 0).</summary>
    public TelemetrySample Latest
    {
        get
        {
            lock (_gate)
            {
                return _latest ??= new TelemetrySample(reader.Collect(), new Dictionary<string, SiteRates>());
            }
        }
    }

    public TelemetrySample[] History()
    {
        lock (_gate) return [.. _history];
    }

    /// <summary>Completes with the next sample.</summary>
    public Task<TelemetrySample> NextAsync(CancellationToken cancellationToken)
    {
        Task<TelemetrySample> next;
        lock (_gate) next = _next.Task;
        return next.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            do Sample();
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal TelemetrySample Sample()
    {
        var now = reader.Collect();
        TaskCompletionSource<TelemetrySample> completed;
        TelemetrySample sample;
        lock (_gate)
        {
            var previous = _latest?.Metrics;
            var rates = new Dictionary<string, SiteRates>(StringComparer.Ordinal);
            foreach (var (site, metrics) in now.Sites)
            {
                if (previous is null || !previous.Sites.TryGetValue(site, out var before))
                {
                    rates[site] = new SiteRates(0, 0, 0, null, null);
                    continue;
                }
                double seconds = Math.Max(time.GetElapsedTime(previous.Timestamp, now.Timestamp).TotalSeconds, 0.001);
                rates[site] = new SiteRates(
                    (metrics.TicksReceived - before.TicksReceived) / seconds,
                    (metrics.Deliveries - before.Deliveries) / seconds,
                    (metrics.Conflated - before.Conflated) / seconds,
                    LatencyBuckets.Quantile(before.Latency, metrics.Latency, 0.50),
                    LatencyBuckets.Quantile(before.Latency, metrics.Latency, 0.99));
            }
            sample = new TelemetrySample(now, rates);
            _latest = sample;
            _history.Enqueue(sample);
            while (_history.Count > HistoryLength) _history.Dequeue();
            completed = _next;
            _next = new TaskCompletionSource<TelemetrySample>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        completed.TrySetResult(sample);
        return sample;
    }
}
