using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Edge;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.MarketData;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Observability.Admin;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>The composition root: one web application with the appliance's listeners, services and edge routing.</summary>
internal static class ApplianceHost
{
    public static WebApplication Build(ApplianceOptions options, Action<ILoggingBuilder> configureLogging, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        // The appliance has its own layered configuration (ApplianceConfiguration); the host's
        // default sources (appsettings.json in the binary's folder, ASPNETCORE_*) must not leak in.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));

        var registry = new ListenerRegistry();
        var certificates = new CertificateHolder();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(registry);
        var acmeResponder = new AcmeChallengeResponder();
        builder.Services.AddApplianceTls(options, certificates, acmeResponder);
        builder.Services.AddMarketData(options);
        builder.Services.AddSystemdIntegration();
        builder.Services.AddFlaskProxy(options);
        builder.Services.AddObservability(options);
        builder.Services.AddSingleton<EdgeRouter>();
        configureServices?.Invoke(builder.Services);
        builder.Services.TryAddSingleton(ConfigurationOrigin.Package);
        var systemdSockets = ListenFds.Parse(Environment.GetEnvironmentVariable, Environment.ProcessId);
        if (systemdSockets.Count > 0) ListenFds.ClearEnvironment();
        builder.WebHost.ConfigureKestrel(kestrel => KestrelSetup.Configure(kestrel, options, registry, certificates, acmeResponder, systemdSockets));

        var app = builder.Build();
        app.UseApplianceAdmin();
        var router = app.Services.GetRequiredService<EdgeRouter>();
        app.Run(router.HandleAsync);
        return app;
    }
}
