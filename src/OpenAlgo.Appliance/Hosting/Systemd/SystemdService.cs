using OpenAlgo.Appliance.MarketData.Sources;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>
/// The appliance's side of <c>Type=notify</c>: READY=1 once the host started (every listener bound,
/// a certificate loaded), STATUS= on certificate changes and periodically, WATCHDOG=1 every
/// <c>WATCHDOG_USEC/2</c> while <see cref="HealthMonitor"/> sees progress, STOPPING=1 on shutdown.
/// </summary>
internal sealed partial class SystemdService : BackgroundService
{
    private readonly SdNotify notify;
    private readonly HealthMonitor health;
    private readonly StatusReport report;
    private readonly IHostApplicationLifetime lifetime;
    private readonly TimeProvider time;
    private readonly IMarketDataSource source;
    private readonly ILogger<SystemdService> logger;
    private readonly TimeSpan? _watchdogInterval;

    public SystemdService(SdNotify notify, SystemdSettings settings, HealthMonitor health, StatusReport report, CertificateHolder certificates,
        IHostApplicationLifetime lifetime, TimeProvider time, IMarketDataSource source, ILogger<SystemdService> logger)
    {
        this.notify = notify;
        this.health = health;
        this.report = report;
        this.lifetime = lifetime;
        this.time = time;
        this.source = source;
        this.logger = logger;
        _watchdogInterval = settings.WatchdogInterval;
        // Subscribed when built, before any hosted service starts: a certificate source or a
        // market-data source may have news (a failed first ACME attempt) while the host is starting.
        source.Changed += change => notify.Status($"{change}; {Status()}");
        certificates.Problem += problem => notify.Status($"{problem}; {Status()}");
        certificates.Changed += certificate => notify.Status($"certificate {certificate.Leaf.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false)}, expires {certificate.Leaf.NotAfter:yyyy-MM-dd}; {Status()}");
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => notify.Ready(Status()));
        lifetime.ApplicationStopping.Register(notify.Stopping);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _watchdogInterval ?? TimeSpan.FromSeconds(30);
        using var timer = new PeriodicTimer(interval, time);
        int beats = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                string? stalled = health.Check();
                if (_watchdogInterval is not null)
                {
                    if (stalled is null)
                    {
                        notify.Watchdog();
                        health.Petted();
                    }
                    else Log.Stalled(logger, stalled);
                }
                // STATUS every ~30 s is enough for `systemctl status`.
                if (++beats * interval.TotalSeconds >= 30)
                {
                    beats = 0;
                    notify.Status(stalled is null ? Status() : $"stalled: {stalled}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Read from the meters (the same values /metrics and the status page show).</summary>
    private string Status() => report.SummaryLine() + (source.Status is { } status ? "; " + status : "");

    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Error, "Watchdog not petted: no progress in {Components}; systemd will restart the service if this persists")]
        public static partial void Stalled(ILogger logger, string components);
    }
}
