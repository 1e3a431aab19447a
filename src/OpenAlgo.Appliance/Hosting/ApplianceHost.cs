using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Edge;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Observability.Admin;
using OpenAlgo.Appliance.Observability.Trace;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// The composition root of what all sites share: one web application with the public listeners
/// (HTTPS and HTTP) and the edge routing, the ACME account, systemd, logging — and
/// <see cref="SiteHost"/>, which builds each site (<see cref="SiteServiceCollectionExtensions.AddSite"/>).
/// </summary>
internal static class ApplianceHost
{
    /// <param name="configureServices">Extra registrations for the process's container.</param>
    /// <param name="configureSite">Extra registrations for every site's container.</param>
    public static WebApplication Build(ApplianceOptions options, Action<ILoggingBuilder> configureLogging,
        Action<IServiceCollection>? configureServices = null, Action<SiteOptions, IServiceCollection>? configureSite = null)
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

        var systemdSockets = ListenFds.Parse(Environment.GetEnvironmentVariable, Environment.ProcessId);
        if (systemdSockets.Count > 0) ListenFds.ClearEnvironment();
        var registry = new ListenerRegistry();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(registry);
        builder.Services.AddAcmeAccount(options);
        builder.Services.AddFlaskForwarder();
        builder.Services.AddSystemdIntegration();
        builder.Services.AddObservability(options);
        builder.Services.AddMessageTrace(options);
        builder.Services.AddSingleton<SiteRegistry>();
        builder.Services.AddSingleton<SiteEvents>();
        builder.Services.AddSingleton(new SystemdSocketSet(systemdSockets));
        if (configureSite is not null) builder.Services.AddSingleton(new SiteServicesHook(configureSite));
        // Sites start before the public listeners open: every certificate is loaded by the first handshake.
        builder.Services.AddSingleton<SiteHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SiteHost>());
        builder.Services.AddSingleton<SniRouter>();
        builder.Services.AddSingleton<EdgeRouter>();
        configureServices?.Invoke(builder.Services);
        builder.Services.TryAddSingleton(ConfigurationOrigin.Package);
        builder.WebHost.UseSockets(SocketTransport.Configure);
        builder.WebHost.ConfigureKestrel(kestrel => KestrelSetup.Configure(kestrel, options, registry,
            kestrel.ApplicationServices.GetRequiredService<SniRouter>(), kestrel.ApplicationServices.GetRequiredService<AcmeChallengeResponder>(), systemdSockets));

        var app = builder.Build();
        app.UseApplianceAdmin();
        var router = app.Services.GetRequiredService<EdgeRouter>();
        app.Run(router.HandleAsync);
        return app;
    }
}
