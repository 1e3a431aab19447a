using System.Diagnostics.Metrics;
using System.Collections.Concurrent;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// The in-process reader of <see cref="ApplianceMeters"/>: a <see cref="MeterListener"/> on that
/// meter instance only (not every meter of the same name in the process), so the status page,
/// <c>status</c>, systemd's STATUS and OpenAlgo's stats file see exactly what <c>/metrics</c> shows.
/// <see cref="Collect"/> observes the observable instruments on demand; the latency histogram's
/// measurements are accumulated per site as they are recorded (one interlocked increment).
/// </summary>
internal sealed class MeterReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, LatencyBuckets> _latency = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private MetricsSnapshot? _collecting;

    public MeterReader(ApplianceMeters meters, TimeProvider time)
    {
        _time = time;
        var meter = meters.Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    /// <summary>Observes every instrument now and returns the values by site.</summary>
    public MetricsSnapshot Collect()
    {
        lock (_gate)
        {
            var snapshot = new MetricsSnapshot(_time.GetUtcNow(), _time.GetTimestamp());
            _collecting = snapshot;
            try
            {
                _listener.RecordObservableInstruments();
            }
            finally
            {
                _collecting = null;
            }
            foreach (var (site, buckets) in _latency) snapshot.Site(site).Latency = buckets.Snapshot();
            return snapshot;
        }
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == ApplianceMeters.TickToFrame)
        {
            // Called on the flushing thread, once per flush.
            if (SiteOf(tags) is { } site) _latency.GetOrAdd(site, static _ => new LatencyBuckets()).Add(value);
            return;
        }
        OnMeasurement(instrument.Name, value, tags);
    }

    private void OnMeasurement(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // Observable instruments report inside Collect (under _gate): _collecting is the snapshot being filled.
        var snapshot = _collecting;
        if (snapshot is null || SiteOf(tags) is not { } siteName) return;
        var site = snapshot.Site(siteName);
        long whole = (long)value;
        switch (name)
        {
            case ApplianceMeters.Clients:
                if (Tag(tags, "door") == "internal") site.ClientsInternal = whole;
                else site.ClientsWss = whole;
                break;
            case ApplianceMeters.Users:
                site.UsersByBroker[Tag(tags, "broker") ?? ""] = whole;
                break;
            case ApplianceMeters.Subscriptions:
                switch (Tag(tags, "mode"))
                {
                    case "ltp": site.SubscriptionsLtp = whole; break;
                    case "quote": site.SubscriptionsQuote = whole; break;
                    case "depth": site.SubscriptionsDepth = whole; break;
                }
                break;
            case ApplianceMeters.TicksReceived: site.TicksReceived = whole; break;
            case ApplianceMeters.Deliveries: site.Deliveries = whole; break;
            case ApplianceMeters.Conflated: site.Conflated = whole; break;
            case ApplianceMeters.SlowClientDisconnects: site.SlowClientDisconnects = whole; break;
            case ApplianceMeters.AuthFailures: site.AuthFailures = whole; break;
            case ApplianceMeters.UpstreamSessions:
                if (Tag(tags, "state") == "connected") site.UpstreamConnected = whole;
                else site.UpstreamDisconnected = whole;
                break;
            case ApplianceMeters.SourceUp:
                site.SourceUp = whole == 1;
                site.Source = Tag(tags, "source") ?? "";
                break;
            case ApplianceMeters.CertificateExpiry: site.CertificateExpiry = value; break;
            case ApplianceMeters.CertificateRenewal: site.CertificateRenewal = value; break;
            case ApplianceMeters.AcmeFailures: site.AcmeFailures = whole; break;
        }
    }

    private static string? SiteOf(ReadOnlySpan<KeyValuePair<string, object?>> tags) => Tag(tags, "site");

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key) return tag.Value as string;
        }
        return null;
    }

    public void Dispose() => _listener.Dispose();
}
