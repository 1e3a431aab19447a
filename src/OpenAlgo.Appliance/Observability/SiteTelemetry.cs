using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// One site as the meters see it: reads the counters its hub, source and certificate already keep
/// (nothing here runs on the tick path; every read happens when a meter is observed). The
/// observable instruments of <see cref="ApplianceMeters"/> call these once per collection.
/// </summary>
internal sealed class SiteTelemetry
{
    /// <summary>A source whose loops have not advanced for this long is down (the watchdog's own period is 30 s at most).</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    /// <summary>Key sessions reconnect within seconds; disconnected longer than this counts as down.</summary>
    public static readonly TimeSpan DisconnectedLimit = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private long _lastProgress = long.MinValue;
    private long _progressAt;
    private long _disconnectedSince;
    private long _unpublishedSince;
    private long _conflatedReported;

    public SiteTelemetry(string name, MarketDataHub hub, CertificateHolder certificates, TlsMode tlsMode, SourceProbe source, TimeProvider time, AcmeCertificateService? acme = null)
    {
        Name = name;
        Tag = new KeyValuePair<string, object?>("site", name);
        Hub = hub;
        Certificates = certificates;
        TlsMode = tlsMode;
        Source = source;
        Acme = acme;
        _time = time;
        _progressAt = time.GetTimestamp();
    }

    public string Name { get; }

    /// <summary>The site's <c>Tls:Domains</c>, its configured <c>Listen:Internal</c> and the prefix of its keys, as it runs (a reload that changes them rebuilds the site and its telemetry).</summary>
    public IReadOnlyList<string> Domains { get; init; } = [];
    public string InternalAddress { get; init; } = "";
    public string KeyPrefix { get; init; } = "";

    public KeyValuePair<string, object?> Tag { get; }
    public MarketDataHub Hub { get; }
    public CertificateHolder Certificates { get; }
    public TlsMode TlsMode { get; }
    public SourceProbe Source { get; }
    public AcmeCertificateService? Acme { get; }

    /// <summary>Market-data clients by door: <c>/ws</c> on HTTPS, and the internal listener.</summary>
    public (long Wss, long Internal) ClientsByDoor()
    {
        long wss = 0, @internal = 0;
        foreach (var session in Hub.Sessions)
        {
            if (session.Listener == "internal") @internal++;
            else wss++;
        }
        return (wss, @internal);
    }

    /// <summary>Authenticated users by broker ("" when OpenAlgo named none): OpenAlgo's stats file counts users and lists their brokers.</summary>
    public Dictionary<string, long> UsersByBroker()
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var session in Hub.Sessions)
        {
            if (session.UserId is { } user) seen.TryAdd(user, session.Broker ?? "");
        }
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var broker in seen.Values) result[broker] = result.GetValueOrDefault(broker) + 1;
        return result;
    }

    /// <summary>Clients per authenticated user and door ("" = not authenticated yet), for the status page.</summary>
    public SortedDictionary<string, (long Wss, long Internal)> ClientsByUser()
    {
        var result = new SortedDictionary<string, (long Wss, long Internal)>(StringComparer.Ordinal);
        foreach (var session in Hub.Sessions)
        {
            string user = session.UserId ?? "";
            var (wss, @internal) = result.GetValueOrDefault(user);
            result[user] = session.Listener == "internal" ? (wss, @internal + 1) : (wss + 1, @internal);
        }
        return result;
    }

    /// <summary>
    /// Ticks conflated for slow clients since the start: the gone clients' sum plus the live ones'.
    /// Reported monotonic (a client leaving between the two reads must not make the counter dip).
    /// </summary>
    public long Conflated()
    {
        long total = Hub.Counters.RetiredConflated;
        foreach (var session in Hub.Sessions) total += session.Outbox.ConflatedTotal;
        lock (_gate)
        {
            if (total < _conflatedReported) total = _conflatedReported;
            _conflatedReported = total;
        }
        return total;
    }

    /// <summary>Whether the source feeds the hub, and in words what it is doing.</summary>
    public (bool Up, string Detail) SourceHealth()
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            if (Source.Progress is { } progress && progress != _lastProgress)
            {
                _lastProgress = progress;
                _progressAt = now;
            }
            var sessions = Source.Sessions;
            if (sessions is { } s && s.Connected < s.Total)
            {
                if (_disconnectedSince == 0) _disconnectedSince = now;
            }
            else
            {
                _disconnectedSince = 0;
            }

            string what = Source.Kind switch
            {
                MarketDataSourceKind.OpenAlgo => $"OpenAlgo proxy {Source.Address}",
                MarketDataSourceKind.Zmq => $"ZeroMQ bus {Source.Address}",
                _ => "simulated feed",
            };
            var quiet = _time.GetElapsedTime(_progressAt, now);
            if (Source.Progress is not null && quiet > StallLimit)
            {
                return (false, $"{what}: stalled, its loop has not run for {quiet.TotalSeconds:0} s");
            }
            if (sessions is { } current)
            {
                string count = $"{current.Connected} of {current.Total} key sessions connected";
                if (_disconnectedSince != 0 && _time.GetElapsedTime(_disconnectedSince, now) > DisconnectedLimit)
                {
                    return (false, $"{what}: {count} (disconnected for {_time.GetElapsedTime(_disconnectedSince, now).TotalSeconds:0} s)");
                }
                return (true, $"{what}: {count}");
            }
            if (Source.Publishers is int publishers)
            {
                // A bus nobody publishes on while clients wait for ticks: the broker adapter (or all of
                // OpenAlgo) is gone. Not while nobody is subscribed: OpenAlgo creates an adapter, and
                // its publisher, when a user subscribes, so an idle bus with no publisher is normal.
                int subscribed = publishers == 0 ? Hub.ActiveSubscriptionKeys() : 0;
                if (subscribed == 0)
                {
                    _unpublishedSince = 0;
                    return (true, $"{what}: {publishers} {(publishers == 1 ? "publisher" : "publishers")} connected");
                }
                if (_unpublishedSince == 0) _unpublishedSince = now;
                var unpublished = _time.GetElapsedTime(_unpublishedSince, now);
                string nobody = $"{what}: no publisher connected while {subscribed} {(subscribed == 1 ? "subscription waits" : "subscriptions wait")} for ticks";
                return unpublished > DisconnectedLimit
                    ? (false, $"{nobody} (for {unpublished.TotalSeconds:0} s; is the broker adapter or OpenAlgo running?)")
                    : (true, nobody);
            }
            return (true, what);
        }
    }

    /// <summary>The certificate served right now, with its renewal plan; null before the first one is loaded.</summary>
    public CertificateSummary? Certificate()
    {
        if (!Certificates.HasCertificate) return null;
        var leaf = Certificates.Current.Leaf;
        switch (TlsMode)
        {
            case TlsMode.Acme:
                var acme = Acme;
                bool standIn = acme?.Issued is null;
                var error = acme?.LastError;
                return CertificateSummary.From(leaf, TlsMode, standIn ? "temporary self-signed stand-in (waiting for the first ACME certificate)" : acme!.IsImported ? "imported (import-certificate), renewed over ACME" : "issued over ACME",
                    standIn ? null : acme!.NextRenewal, error?.Message, error?.At, standIn);
            case TlsMode.SelfSigned:
                return CertificateSummary.From(leaf, TlsMode, "self-signed by the appliance (Tls:Mode=SelfSigned)", (leaf.NotAfter.ToUniversalTime() - SelfSignedCertificateSource.RenewBefore, RenewalReason.BeforeExpiry));
            default:
                return CertificateSummary.From(leaf, TlsMode, "PEM files (Tls:Mode=Files), reloaded when they change", null);
        }
    }
}
