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
/// A configuration that does not validate is refused as a whole and the running one stays. Global
/// keys a reload cannot apply (<see cref="SiteChanges.NeedRestart"/>: the public and admin listeners,
/// their Http:* limits, the renewal period, the directories) need a restart; a change there is
/// logged, naming them.
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
            if (SiteChanges.NeedRestart(running, fresh) is { Count: > 0 } restartOnly)
            {
                Log.NeedsRestart(logger, string.Join(", ", restartOnly));
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

    private static partial class Log
    {
        [LoggerMessage(1600, LogLevel.Information, "Configuration reloaded: {Sites}")]
        public static partial void Reloaded(ILogger logger, string sites);

        [LoggerMessage(1601, LogLevel.Error, "Configuration reload refused, the running configuration stays: {Errors}")]
        public static partial void Refused(ILogger logger, string errors);

        [LoggerMessage(1602, LogLevel.Warning, "{Keys} changed: a reload cannot apply this; it takes effect at the next restart (systemctl restart openalgo-appliance)")]
        public static partial void NeedsRestart(ILogger logger, string keys);
    }
}
