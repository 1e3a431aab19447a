using System.Net;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Edge;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.MarketData;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Sources;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Security;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// One OpenAlgo instance with its domains, running: its own service container (built by
/// <see cref="SiteServiceCollectionExtensions.AddSite"/>), its hosted services and its internal
/// listener, started and stopped together — with the process, or alone when a reload adds, removes
/// or rebuilds it. The public listeners reach it through <see cref="SiteRegistry"/>.
/// </summary>
internal sealed partial class Site : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly SiteLifetime _lifetime;
    private readonly SiteContext _context;
    private readonly ILogger _logger;
    private readonly List<IHostedService> _started = [];
    private readonly List<IDisposable> _watched = [];
    private InternalListener? _internal;
    private int _stopped;

    private Site(SiteOptions options, SiteContext context, ServiceProvider services, SiteLifetime lifetime)
    {
        Options = options;
        _context = context;
        _services = services;
        _lifetime = lifetime;
        IsNamed = context.Named;
        Hub = services.GetRequiredService<MarketDataHub>();
        Certificates = services.GetRequiredService<CertificateHolder>();
        MarketData = services.GetRequiredService<MarketDataEndpoint>();
        Flask = services.GetRequiredService<FlaskProxy>();
        Origins = services.GetRequiredService<OriginGuard>();
        Source = services.GetRequiredService<IMarketDataSource>();
        Supervisor = services.GetRequiredService<ConnectionSupervisor>();
        _logger = services.GetRequiredService<ILogger<Site>>();
    }

    /// <summary>Builds the site's container; nothing runs until <see cref="StartAsync"/>.</summary>
    public static Site Build(SiteOptions options, SiteContext context)
    {
        var lifetime = new SiteLifetime(context.Root.GetRequiredService<IHostApplicationLifetime>());
        var services = new ServiceCollection();
        services.AddSite(options, context, lifetime);
        context.Configure?.Invoke(options, services);
        return new Site(options, context, services.BuildServiceProvider(), lifetime);
    }

    public SiteOptions Options { get; private set; }
    public string Name => Options.Name;

    /// <summary>Sites are configured by name: logs and STATUS say which (the implicit site reads as before).</summary>
    public bool IsNamed { get; }

    public IServiceProvider Services => _services;
    public MarketDataHub Hub { get; }
    public CertificateHolder Certificates { get; }
    public MarketDataEndpoint MarketData { get; }
    public FlaskProxy Flask { get; }
    public OriginGuard Origins { get; }
    public IMarketDataSource Source { get; }
    public ConnectionSupervisor Supervisor { get; }
    public IPEndPoint? InternalEndPoint => _internal?.EndPoint;

    /// <summary>
    /// Starts the hosted services in order (certificate first: the site is served from the first
    /// handshake on), then the internal listener. A failure stops what started and is rethrown.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var events = _context.Root.GetRequiredService<SiteEvents>();
        // Before anything starts: a source may have news while starting (a failed first ACME attempt).
        Source.Changed += message => events.Report(this, message);
        Certificates.Problem += problem => events.Report(this, problem);
        Certificates.Changed += certificate => events.Report(this, $"certificate {certificate.Leaf.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false)}, expires {certificate.Leaf.NotAfter:yyyy-MM-dd}");
        // The meters see the site from its first moment (its stats file reads them as it starts).
        var meters = _context.Root.GetRequiredService<ApplianceMeters>();
        var telemetry = _services.GetRequiredService<SiteTelemetry>();
        meters.Add(telemetry);
        _watched.Add(new Unregister(() => meters.Remove(telemetry)));
        try
        {
            foreach (var service in _services.GetServices<IHostedService>())
            {
                await service.StartAsync(cancellationToken);
                _started.Add(service);
            }
            var router = _context.Root.GetRequiredService<EdgeRouter>();
            ulong? socket = _context.SystemdSockets.TryGetValue(InternalListener.SocketName(Name), out ulong fd) ? fd : null;
            _internal = await InternalListener.StartAsync(Options, socket, context => router.HandleInternalAsync(this, context),
                _context.Root.GetRequiredService<ListenerRegistry>(), _services, _services.GetRequiredService<ILoggerFactory>(), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            await StopAsync(CancellationToken.None);
            // "Appliance:MarketData:ZmqEndpoint: …" is this site's key: name it as the configuration does.
            if (IsNamed && ex.Message.StartsWith("Appliance:", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Appliance:{Options.KeyPrefix}{ex.Message["Appliance:".Length..]}", ex);
            }
            throw;
        }
        var health = _context.Root.GetRequiredService<HealthMonitor>();
        _watched.Add(health.Register(Label("connection supervisor"), () => Supervisor.Sweeps));
        _watched.Add(health.Register(Label(Source.Name), () => Source.Progress));

        Log.Started(_logger, string.Join(", ", Options.Tls.Domains), Options.Tls.Mode, Options.MarketData.Source, _internal is null ? "off" : _context.Root.GetRequiredService<ListenerRegistry>().Describe(ListenerKind.Internal, Name));
    }

    /// <summary>
    /// Stops the site alone: its clients get 1001 (going away) and a moment to close, the internal
    /// listener closes, the hosted services stop in reverse order, the container is disposed.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        foreach (var watched in _watched) watched.Dispose();
        _lifetime.SiteStopping();
        // The supervisor sent every client 1001: give the close handshakes their time (like Kestrel's drain).
        var time = _services.GetRequiredService<TimeProvider>();
        long since = time.GetTimestamp();
        while (Hub.ClientCount > 0 && time.GetElapsedTime(since) < Hub.Limits.CloseTimeout && !cancellationToken.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken); } catch (OperationCanceledException) { }
        }
        if (_internal is not null)
        {
            try { await _internal.StopAsync(cancellationToken); } catch (OperationCanceledException) { }
            await _internal.DisposeAsync();
        }
        for (int i = _started.Count - 1; i >= 0; i--)
        {
            try
            {
                await _started[i].StopAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                Log.StopFailed(_logger, Name, _started[i].GetType().Name, ex);
            }
        }
        _lifetime.SiteStopped();
        await _services.DisposeAsync();
        _lifetime.Dispose();
    }

    /// <summary>
    /// A reload that changed only what a running site can take in place: limits (new connections
    /// and messages use them), origins, the authentication throttle (failure counts kept), and the
    /// content of certificate files.
    /// </summary>
    public void Update(SiteOptions fresh)
    {
        Hub.Limits = HubLimits.From(fresh.Limits);
        _services.GetRequiredService<OriginPolicy>().Reload(fresh);
        _services.GetRequiredService<AuthThrottle>().Reload(fresh.Security.AuthThrottle);
        _services.GetService<PemFileCertificateSource>()?.ReloadIfChanged();
        Options = fresh;
    }

    /// <summary>A watchdog or log label: named after the site when sites are configured.</summary>
    public string Label(string what) => IsNamed ? $"site {Name}: {what}" : what;

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    public override string ToString() => Name;

    private sealed class Unregister(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    private static partial class Log
    {
        [LoggerMessage(2200, LogLevel.Information, "Site started: domains {Domains}, certificate {TlsMode}, market data {Source}, internal listener {Internal}")]
        public static partial void Started(ILogger logger, string domains, TlsMode tlsMode, MarketDataSourceKind source, string @internal);

        [LoggerMessage(2201, LogLevel.Warning, "Site {Site}: {Service} did not stop cleanly")]
        public static partial void StopFailed(ILogger logger, string site, string service, Exception exception);
    }
}
