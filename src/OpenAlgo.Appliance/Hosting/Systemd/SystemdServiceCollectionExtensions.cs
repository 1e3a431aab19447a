using OpenAlgo.Appliance.MarketData;
using OpenAlgo.Appliance.MarketData.Sources;

namespace OpenAlgo.Appliance.Hosting.Systemd;

internal static class SystemdServiceCollectionExtensions
{
    /// <summary>sd_notify READY/STATUS/WATCHDOG/STOPPING and the health checks the watchdog relies on.</summary>
    public static IServiceCollection AddSystemdIntegration(this IServiceCollection services, SystemdSettings? settings = null)
    {
        settings ??= SystemdSettings.FromEnvironment();
        services.AddSingleton(settings);
        services.AddSingleton(sp => new SdNotify(sp.GetRequiredService<SystemdSettings>().NotifySocket));
        services.AddSingleton(sp =>
        {
            var health = new HealthMonitor();
            var supervisor = sp.GetRequiredService<ConnectionSupervisor>();
            health.Register("connection supervisor", () => supervisor.Sweeps);
            var source = sp.GetRequiredService<IMarketDataSource>();
            health.Register(source.Name, () => source.Progress);
            return health;
        });
        services.AddHostedService<SystemdService>();
        return services;
    }
}
