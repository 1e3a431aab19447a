namespace OpenAlgo.Appliance.Observability;

/// <summary>One site's values at one collection of <see cref="ApplianceMeters"/>, as <see cref="MeterReader"/> heard them.</summary>
internal sealed class SiteMetrics
{
    public long ClientsWss;
    public long ClientsInternal;
    public Dictionary<string, long> UsersByBroker { get; } = new(StringComparer.Ordinal);
    public long SubscriptionsLtp;
    public long SubscriptionsQuote;
    public long SubscriptionsDepth;
    public long TicksReceived;
    public long Deliveries;
    public long Conflated;
    public long SlowClientDisconnects;
    public long AuthFailures;
    public long UpstreamConnected;
    public long UpstreamDisconnected;
    public bool SourceUp;
    public string Source = "";
    public double? CertificateExpiry;
    public double? CertificateRenewal;
    public long? AcmeFailures;

    /// <summary>Cumulative tick-to-frame buckets (<see cref="LatencyBuckets"/> layout).</summary>
    public long[] Latency = new long[LatencyBuckets.Count];

    public long Clients => ClientsWss + ClientsInternal;
    public long Users => UsersByBroker.Values.Sum();
    public long SubscribedKeys => SubscriptionsLtp + SubscriptionsQuote + SubscriptionsDepth;
}

/// <summary>Every site's values at one instant.</summary>
internal sealed class MetricsSnapshot(DateTimeOffset at, long timestamp)
{
    public DateTimeOffset At { get; } = at;

    /// <summary><see cref="TimeProvider.GetTimestamp"/> at collection, for rates.</summary>
    public long Timestamp { get; } = timestamp;

    public Dictionary<string, SiteMetrics> Sites { get; } = new(StringComparer.Ordinal);

    public SiteMetrics Site(string name)
    {
        if (!Sites.TryGetValue(name, out var site)) Sites[name] = site = new SiteMetrics();
        return site;
    }
}
