namespace OpenAlgo.Appliance.Hosting.Systemd;

internal static class SystemdServiceCollectionExtensions
{
    /// <summary>
    /// sd_notify READY/STATUS/WATCHDOG/STOPPING and the health monitor the watchdog relies on
    /// (each site registers its own loops when it starts).
    /// </summary>
    public static IServiceCollection AddSystemdIntegration(this IServiceCollection services, SystemdSettings? settings = null)
    {
        settings ??= SystemdSettings.FromEnvironment();
        services.AddSingleton(settings);
        services.AddSingleton(sp => new SdNotify(sp.GetRequiredService<SystemdSettings>().NotifySocket));
        services.AddSingleton<HealthMonitor>();
        services.AddHostedService<SystemdService>();
        return services;
    }
}
