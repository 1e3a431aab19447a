using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Sites;

namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>
/// The appliance's side of <c>Type=notify</c>: READY=1 once the host started (every listener bound,
/// every site's certificate loaded), STATUS= on the sites' news and periodically, WATCHDOG=1 every
/// <c>WATCHDOG_USEC/2</c> while <see cref="HealthMonitor"/> sees progress, STOPPING=1 on shutdown.
/// With sites configured each status names its site; the implicit site of a configuration without
/// Sites reads as before.
/// </summary>
internal sealed partial class SystemdService : BackgroundService
{
    private readonly SdNotify _notify;
    private readonly HealthMonitor _health;
    private readonly StatusReport _report;
    private readonly SiteRegistry _sites;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<SystemdService> _logger;
    private readonly TimeSpan? _watchdogInterval;

    public SystemdService(SdNotify notify, SystemdSettings settings, HealthMonitor health, StatusReport report, SiteRegistry sites, SiteEvents events,
        IHostApplicationLifetime lifetime, TimeProvider time, ILogger<SystemdService> logger)
    {
        _notify = notify;
        _health = health;
        _report = report;
        _sites = sites;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
        _watchdogInterval = settings.WatchdogInterval;
        // Subscribed when built, before any site starts: a site may have news (a failed first ACME
        // attempt) while the host is still starting.
        events.News += (site, message) => notify.Status($"{(site.IsNamed ? $"site {site.Name}: " : "")}{message}; {Status()}");
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _lifetime.ApplicationStarted.Register(() => _notify.Ready(Status()));
        _lifetime.ApplicationStopping.Register(_notify.Stopping);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _watchdogInterval ?? TimeSpan.FromSeconds(30);
        using var timer = new PeriodicTimer(interval, _time);
        int beats = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                string? stalled = _health.Check();
                if (_watchdogInterval is not null)
                {
                    if (stalled is null)
                    {
                        _notify.Watchdog();
                        _health.Petted();
                    }
                    else Log.Stalled(_logger, stalled);
                }
                // STATUS every ~30 s is enough for `systemctl status`.
                if (++beats * interval.TotalSeconds >= 30)
                {
                    beats = 0;
                    _notify.Status(stalled is null ? Status() : $"stalled: {stalled}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Read from the meters (the same values /metrics and the status page show), then what each
    /// site's source has to say.
    /// </summary>
    private string Status()
    {
        var sites = _sites.Current;
        if (sites.Count == 0) return "starting";
        string line = _report.SummaryLine();
        foreach (var site in sites)
        {
            if (site.Source.Status is { } status) line += "; " + (site.IsNamed ? $"site {site.Name}: " : "") + status;
        }
        return line;
    }

    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Error, "Watchdog not petted: no progress in {Components}; systemd will restart the service if this persists")]
        public static partial void Stalled(ILogger logger, string components);
    }
}
