using System.Diagnostics.Metrics;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// The one set of meters every view reads — <c>/metrics</c> (through OpenTelemetry's Prometheus
/// exporter), the status page and <c>status</c> (through <see cref="MeterReader"/>), systemd's STATUS
/// and OpenAlgo's stats file. Names are the interface contract's (§Observability); every series
/// carries <c>site</c>. Almost all are observable instruments over counters the hub, the sources and
/// the certificate services keep anyway, so the tick path pays nothing for them; the one histogram
/// is recorded once per socket flush (<see cref="TickLatency"/>).
/// </summary>
internal sealed class ApplianceMeters
{
    public const string MeterName = "OpenAlgo.Appliance";

    // Instrument names as Prometheus shows them (the exporter appends _total to counters).
    public const string Clients = "openalgo_appliance_clients";
    public const string Users = "openalgo_appliance_users";
    public const string Subscriptions = "openalgo_appliance_subscriptions";
    public const string TicksReceived = "openalgo_appliance_ticks_received";
    public const string Deliveries = "openalgo_appliance_deliveries";
    public const string Conflated = "openalgo_appliance_conflated";
    public const string SlowClientDisconnects = "openalgo_appliance_slow_client_disconnects";
    public const string AuthFailures = "openalgo_appliance_auth_failures";
    public const string UpstreamSessions = "openalgo_appliance_upstream_sessions";
    public const string SourceUp = "openalgo_appliance_source_up";
    public const string CertificateExpiry = "openalgo_appliance_certificate_expiry_timestamp_seconds";
    public const string CertificateRenewal = "openalgo_appliance_certificate_renewal_timestamp_seconds";
    public const string AcmeFailures = "openalgo_appliance_acme_failures";
    public const string TickToFrame = "openalgo_appliance_tick_to_frame_seconds";
    public const string BuildInfo = "openalgo_appliance_build_info";
    public const string WatchdogEnabled = "openalgo_appliance_watchdog_enabled";
    public const string WatchdogPets = "openalgo_appliance_watchdog_pets";
    public const string Stalled = "openalgo_appliance_stalled";

    private SiteTelemetry[] _sites = [];
    private readonly Histogram<double> _tickToFrame;

    /// <param name="factory">The host's: the meter lives and dies with this host (tests run several in one process).</param>
    public ApplianceMeters(IMeterFactory factory)
    {
        Meter = factory.Create(MeterName, VersionInfo.Version);
        Meter.CreateObservableGauge(Clients, ObserveClients, description: "Market-data WebSocket clients connected, by door (wss: /ws on HTTPS; internal: the loopback listener)");
        Meter.CreateObservableGauge(Users, ObserveUsers, description: "Authenticated users with at least one client, by broker");
        Meter.CreateObservableGauge(Subscriptions, ObserveSubscriptions, description: "Symbols with at least one subscriber, by mode (what the source must stream)");
        Meter.CreateObservableCounter(TicksReceived, () => PerSite(s => s.Hub.TicksIn), description: "Ticks that reached the hub from the source");
        Meter.CreateObservableCounter(Deliveries, () => PerSite(s => s.Hub.FramesOut), description: "Market-data frames queued to clients (one per tick and recipient)");
        Meter.CreateObservableCounter(Conflated, () => PerSite(s => s.Conflated()), description: "Ticks replaced by a newer one for a client that fell behind");
        Meter.CreateObservableCounter(SlowClientDisconnects, () => PerSite(s => s.Hub.Counters.SlowClientDisconnects), description: "Clients closed with 1008 after making no progress while backlogged");
        Meter.CreateObservableCounter(AuthFailures, () => PerSite(s => s.Hub.Counters.AuthFailures), description: "authenticate requests refused (invalid or refused API key)");
        Meter.CreateObservableGauge(UpstreamSessions, ObserveUpstreamSessions, description: "OpenAlgo proxy key sessions (MarketData:Source=OpenAlgo), by state");
        Meter.CreateObservableGauge(SourceUp, ObserveSourceUp, description: "1 while the market-data source feeds the hub, 0 when it is down or stalled");
        Meter.CreateObservableGauge(CertificateExpiry, ObserveCertificateExpiry, unit: "s", description: "Unix time the served certificate expires");
        Meter.CreateObservableGauge(CertificateRenewal, ObserveCertificateRenewal, unit: "s", description: "Unix time the served certificate is due for renewal");
        Meter.CreateObservableCounter(AcmeFailures, ObserveAcmeFailures, description: "Failed ACME attempts (Tls:Mode=Acme)");
        Meter.CreateObservableGauge(BuildInfo, () => new Measurement<long>(1, new KeyValuePair<string, object?>("version", VersionInfo.Version)), description: "1, labelled with the running version");
        _tickToFrame = Meter.CreateHistogram(TickToFrame, unit: "s",
            description: "Time from a tick reaching the hub to its frame being written to a client's socket (oldest tick of each flush)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    public Meter Meter { get; }

    public IReadOnlyList<SiteTelemetry> Sites => Volatile.Read(ref _sites);

    /// <summary>Adds a site (when it starts) and gives its hub the latency recorder its outboxes report to.</summary>
    public void Add(SiteTelemetry site)
    {
        lock (Meter)
        {
            _sites = [.. _sites, site];
        }
        site.Hub.Latency = new TickLatency(_tickToFrame, site.Name);
    }

    /// <summary>A site stopped (removed or rebuilt by a reload): its series end.</summary>
    public void Remove(SiteTelemetry site)
    {
        lock (Meter)
        {
            _sites = [.. _sites.Where(s => !ReferenceEquals(s, site))];
        }
    }

    /// <summary>
    /// The process-wide watchdog series (no <c>site</c> label: one watchdog for the process): whether
    /// systemd asked for pets, how many were sent, and whether a loop is stalled right now.
    /// </summary>
    public void AddWatchdog(Hosting.Systemd.HealthMonitor health, bool enabled)
    {
        Meter.CreateObservableGauge(WatchdogEnabled, () => enabled ? 1L : 0L, description: "1 when systemd's watchdog is on (WatchdogSec in the unit)");
        Meter.CreateObservableCounter(WatchdogPets, () => health.Pets, description: "WATCHDOG=1 notifications sent; stops rising while a loop is stalled");
        Meter.CreateObservableGauge(Stalled, () => health.LastStalled is null ? 0L : 1L, description: "1 while the last health check found a loop that made no progress");
    }

    private IEnumerable<Measurement<long>> PerSite(Func<SiteTelemetry, long> read)
    {
        foreach (var site in Sites) yield return new Measurement<long>(read(site), site.Tag);
    }

    private IEnumerable<Measurement<long>> ObserveClients()
    {
        foreach (var site in Sites)
        {
            var (wss, @internal) = site.ClientsByDoor();
            yield return new Measurement<long>(wss, site.Tag, new("door", "wss"));
            yield return new Measurement<long>(@internal, site.Tag, new("door", "internal"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveUsers()
    {
        foreach (var site in Sites)
        {
            foreach (var (broker, count) in site.UsersByBroker()) yield return new Measurement<long>(count, site.Tag, new("broker", broker));
        }
    }

    private IEnumerable<Measurement<long>> ObserveSubscriptions()
    {
        foreach (var site in Sites)
        {
            var (ltp, quote, depth) = site.Hub.SubscribedSymbolsByMode();
            yield return new Measurement<long>(ltp, site.Tag, new("mode", "ltp"));
            yield return new Measurement<long>(quote, site.Tag, new("mode", "quote"));
            yield return new Measurement<long>(depth, site.Tag, new("mode", "depth"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveUpstreamSessions()
    {
        foreach (var site in Sites)
        {
            // Zero for sources without key sessions: every site has the series, so alerts need no absent().
            var (connected, total) = site.Source.Sessions ?? (0, 0);
            yield return new Measurement<long>(connected, site.Tag, new("state", "connected"));
            yield return new Measurement<long>(total - connected, site.Tag, new("state", "disconnected"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveSourceUp()
    {
        foreach (var site in Sites)
        {
            string source = site.Source.Kind switch
            {
                MarketDataSourceKind.OpenAlgo => "openalgo",
                MarketDataSourceKind.Zmq => "zmq",
                _ => "simulated",
            };
            yield return new Measurement<long>(site.SourceHealth().Up ? 1 : 0, site.Tag, new("source", source));
        }
    }

    private IEnumerable<Measurement<double>> ObserveCertificateExpiry()
    {
        foreach (var site in Sites)
        {
            if (site.Certificates.HasCertificate)
            {
                yield return new Measurement<double>(new DateTimeOffset(site.Certificates.Current.Leaf.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(), site.Tag);
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveCertificateRenewal()
    {
        foreach (var site in Sites)
        {
            if (site.Certificate()?.RenewAt is { } at) yield return new Measurement<double>(at.ToUnixTimeSeconds(), site.Tag);
        }
    }

    private IEnumerable<Measurement<long>> ObserveAcmeFailures()
    {
        foreach (var site in Sites)
        {
            yield return new Measurement<long>(site.Acme?.FailuresTotal ?? 0, site.Tag);
        }
    }
}
