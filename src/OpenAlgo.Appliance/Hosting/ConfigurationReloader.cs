using System.Runtime.InteropServices;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Tls;
using Serilog.Core;
using Serilog.Events;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// SIGHUP (<c>systemctl reload</c>): re-reads the configuration and applies what can change live —
/// limits, log level, certificate files, allowed WebSocket origins — with RELOADING=1/MONOTONIC_USEC … READY=1 around it.
/// A configuration that does not validate is refused as a whole and the running one stays.
/// Listener addresses, TLS mode and market-data source need a restart; a change there is logged.
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
            _ = Task.Run(Reload);
        });
    }

    public void Reload()
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

            services.GetRequiredService<MarketDataHub>().Limits = HubLimits.From(fresh.Limits);
            levelSwitch.MinimumLevel = Enum.Parse<LogEventLevel>(fresh.LogLevel, ignoreCase: true);
            services.GetService<PemFileCertificateSource>()?.ReloadIfChanged();
            services.GetService<OpenAlgo.Appliance.Security.OriginPolicy>()?.Reload(fresh);
            if (fresh.Listen.Https != running.Listen.Https || fresh.Listen.Http != running.Listen.Http || fresh.Listen.Internal != running.Listen.Internal
                || fresh.Tls.Mode != running.Tls.Mode
                || fresh.MarketData.Source != running.MarketData.Source
                || fresh.MarketData.ZmqEndpoint != running.MarketData.ZmqEndpoint
                || fresh.MarketData.PerMessageDeflate != running.MarketData.PerMessageDeflate)
            {
                Log.NeedsRestart(logger);
            }
            Log.Reloaded(logger);
            notify.Ready("configuration reloaded");
        }
        finally
        {
            Volatile.Write(ref _reloading, 0);
        }
    }

    public void Dispose() => _registration?.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1600, LogLevel.Information, "Configuration reloaded (limits, log level, certificate files, origins)")]
        public static partial void Reloaded(ILogger logger);

        [LoggerMessage(1601, LogLevel.Error, "Configuration reload refused, the running configuration stays: {Errors}")]
        public static partial void Refused(ILogger logger, string errors);

        [LoggerMessage(1602, LogLevel.Warning, "Listener addresses, TLS mode, market-data source or MarketData:PerMessageDeflate changed: these take effect at the next restart")]
        public static partial void NeedsRestart(ILogger logger);
    }
}
