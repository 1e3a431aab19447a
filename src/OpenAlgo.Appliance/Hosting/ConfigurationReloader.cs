using System.Runtime.InteropServices;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.Sites;
using Serilog.Core;
using Serilog.Events;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// SIGHUP (<c>systemctl reload</c>): re-reads the configuration and applies it with
/// RELOADING=1/MONOTONIC_USEC … READY=1 around it: the log level, the message trace, and the sites — a new site
/// starts, a removed one stops, a site whose limits, origins or certificate files changed is
/// updated in place, any other changed site is rebuilt alone; other sites' clients stay connected.
/// A configuration that does not validate is refused as a whole and the running one stays. The
/// public listeners, their Http:* limits and the state and log directories need a restart; a change there is logged.
/// </summary>
internal sealed partial class ConfigurationReloader(
    Func<ApplianceOptions> load,
    ApplianceOptions running,
    IServiceProvider services,
    LoggingLevelSwitch levelSwitch,
    ILogger<ConfigurationReloader> logger) : IDisposable
{
    private PosixSignalRegistration? _registration;
    private int _reloading;

    public void Listen()
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP must not terminate the service
            _ = Task.Run(ReloadAsync);
        });
    }

    public async Task ReloadAsync()
    {
        if (Interlocked.Exchange(ref _reloading, 1) == 1) return;
        var notify = services.GetRequiredService<SdNotify>();
        notify.Reloading();
        try
        {
            ApplianceOptions fresh;
            try
            {
                fresh = load();
            }
            catch (ConfigurationErrorsException ex)
            {
                Log.Refused(logger, ex.Message);
                notify.Ready("reload refused: configuration invalid, previous configuration still in force");
                return;
            }

            levelSwitch.MinimumLevel = Enum.Parse<LogEventLevel>(fresh.LogLevel, ignoreCase: true);
            services.GetService<Observability.Trace.MessageTrace>()?.Apply(fresh.Logging.MessageTrace);
            if (fresh.Listen.Https != running.Listen.Https || fresh.Listen.Http != running.Listen.Http
                || HttpLimitsChanged(fresh.Http, running.Http)
                || fresh.StateDirectory != running.StateDirectory || fresh.LogsDirectory != running.LogsDirectory)
            {
                Log.NeedsRestart(logger);
                // Sites keep their state where the running process keeps it until it restarts.
                fresh.StateDirectory = running.StateDirectory;
            }
            var outcome = await services.GetRequiredService<SiteHost>().ApplyAsync(fresh, CancellationToken.None);
            Log.Reloaded(logger, outcome.ToString());
            notify.Ready(outcome.Failed.Count == 0 ? "configuration reloaded" : $"configuration reloaded; {string.Join("; ", outcome.Failed.Select(f => "site " + f))}");
            running = fresh;
        }
        finally
        {
            Volatile.Write(ref _reloading, 0);
        }
    }

    public void Dispose() => _registration?.Dispose();

    /// <summary>Kestrel reads its limits when a listener binds: Http:* takes effect at the next restart.</summary>
    private static bool HttpLimitsChanged(HttpSection a, HttpSection b) =>
        a.RequestHeadersTimeoutSeconds != b.RequestHeadersTimeoutSeconds || a.MinRequestBodyBytesPerSecond != b.MinRequestBodyBytesPerSecond
        || a.MaxRequestHeaderCount != b.MaxRequestHeaderCount || a.MaxRequestHeadersTotalBytes != b.MaxRequestHeadersTotalBytes
        || a.KeepAliveTimeoutSeconds != b.KeepAliveTimeoutSeconds || a.TlsHandshakeTimeoutSeconds != b.TlsHandshakeTimeoutSeconds;

    private static partial class Log
    {
        [LoggerMessage(1600, LogLevel.Information, "Configuration reloaded: {Sites}")]
        public static partial void Reloaded(ILogger logger, string sites);

        [LoggerMessage(1601, LogLevel.Error, "Configuration reload refused, the running configuration stays: {Errors}")]
        public static partial void Refused(ILogger logger, string errors);

        [LoggerMessage(1602, LogLevel.Warning, "Listen:Https, Listen:Http, Http:*, StateDirectory or LogsDirectory changed: these take effect at the next restart")]
        public static partial void NeedsRestart(ILogger logger);
    }
}
