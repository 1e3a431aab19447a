using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Observability.Trace;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;
using Yarp.ReverseProxy.Forwarder;

namespace OpenAlgo.Appliance.Sites;

internal static class SiteServiceCollectionExtensions
{
    /// <summary>
    /// A site's whole graph, in one place: its certificate (holder and source), its market data
    /// (hub, authenticator, gateway, protocol, endpoint, supervisor, source, stats writer, limits)
    /// and its Flask proxy (client, Socket.IO gate, origin policy and guard, session check). What a
    /// site shares with the process is handed in from <see cref="SiteContext.Root"/>: the logger
    /// factory (naming the site), time, YARP's forwarder, the ACME account and challenge responder, the
    /// meters' reader (the stats file reads it); the site's telemetry joins the process's meters when it starts.
    /// </summary>
    public static IServiceCollection AddSite(this IServiceCollection services, SiteOptions site, SiteContext context, SiteLifetime lifetime)
    {
        var root = context.Root;
        services.AddSingleton<ILoggerFactory>(new SiteLoggerFactory(root.GetRequiredService<ILoggerFactory>(), context.Named ? site.Name : null));
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(root.GetRequiredService<TimeProvider>());
        services.AddSingleton<IHostApplicationLifetime>(lifetime);
        services.AddSingleton(context.Options);
        services.AddSingleton(root.GetRequiredService<IHttpForwarder>());
        services.AddSingleton(root.GetRequiredService<AcmeChallengeResponder>());
        services.AddSingleton(root.GetRequiredService<AcmeAccountLock>());
        services.AddSingleton(root.GetRequiredService<AcmeSchedule>());

        services.AddSingleton(site);
        services.AddSingleton(SiteStorage.For(context.Options.StateDirectory, site));
        services.AddSingleton(root.GetRequiredService<MeterReader>());
        services.AddSiteMessageTrace(site, root);
        services.AddSiteCertificate(site);
        services.AddMarketData(site);
        services.AddFlaskProxy(site);
        services.AddSiteTelemetry(site);
        return services;
    }
}
