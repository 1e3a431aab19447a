using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Auth.Database;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.Sources;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;
using OpenAlgo.Appliance.MarketData.Stats;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData;

internal static class MarketDataServiceCollectionExtensions
{
    /// <summary>A site's market-data hub, its protocol, authenticator, gateway, connection supervisor, stats writer and tick source.</summary>
    public static IServiceCollection AddMarketData(this IServiceCollection services, SiteOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new MarketDataHub
        {
            Limits = HubLimits.From(options.Limits),
            Time = sp.GetRequiredService<TimeProvider>(),
            Trace = sp.GetService<Observability.Trace.SiteMessageTrace>(),
        });
        if (options.Auth.Mode == AuthMode.OpenAlgoDatabase)
        {
            services.TryAddSingleton<IApiKeyAuthenticator>(sp => new OpenAlgoDatabaseAuthenticator(options.Auth.DatabasePath, options.Auth.ApiKeyPepper,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<OpenAlgoDatabaseAuthenticator>>()));
            services.AddHostedService(sp => new DatabaseProbe(sp.GetRequiredService<IApiKeyAuthenticator>(), options.Auth.DatabasePath));
        }
        services.TryAddSingleton<IApiKeyAuthenticator>(_ => new StaticKeyAuthenticator(options.Auth.StaticKeys));
        // The source's own gateway (OpenAlgo's proxy judges keys and subscriptions), else the authenticator's.
        services.AddSingleton(sp => sp.GetRequiredService<IMarketDataSource>().Gateway
            ?? new AuthenticatorGateway(sp.GetRequiredService<IApiKeyAuthenticator>()));
        services.AddSingleton(sp => new OpenAlgoProtocol(
            sp.GetRequiredService<MarketDataHub>(),
            sp.GetRequiredService<ISubscriptionGateway>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OpenAlgoProtocol>>(),
            options.MarketData.SupportedBrokers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            sp.GetRequiredService<Security.AuthThrottle>()));
        services.AddSingleton(sp => new Security.AuthThrottle(options.Security.AuthThrottle, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Security.AuthThrottle>>()));
        services.AddSingleton(new WebSocketServerOptions(options.MarketData.PerMessageDeflate));
        services.AddSingleton(sp => new BulkMessageLane(sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<BurstMemoryTrimmer>();
        services.AddSingleton<MarketDataEndpoint>();
        services.AddSingleton<ConnectionSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionSupervisor>());

        if (!string.IsNullOrWhiteSpace(options.MarketData.StatsFile))
        {
            services.AddHostedService(sp => new ProxyStatsWriter(options.MarketData.StatsFile, options.Name, sp.GetRequiredService<Observability.MeterReader>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ProxyStatsWriter>>()));
        }
        services.AddMarketDataSource(options);
        return services;
    }

    /// <summary>
    /// The site's <see cref="IMarketDataSource"/>, started with it. Each concrete source is also
    /// registered as itself, so a test (or a tool) can replace it with a differently tuned instance.
    /// </summary>
    private static void AddMarketDataSource(this IServiceCollection services, SiteOptions options)
    {
        if (options.MarketData.Source == MarketDataSourceKind.OpenAlgo)
        {
            services.AddSingleton(sp => new OpenAlgoProxySource(new Uri(options.MarketData.OpenAlgoUpstreamUrl),
                sp.GetRequiredService<MarketDataHub>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<IMarketDataSource>(sp => sp.GetRequiredService<OpenAlgoProxySource>());
        }
        else if (options.MarketData.Source == MarketDataSourceKind.Zmq)
        {
            services.AddSingleton<ZmqTickSource>();
            services.AddSingleton<IMarketDataSource>(sp => sp.GetRequiredService<ZmqTickSource>());
        }
        else
        {
            services.AddSingleton<SimulatedTickSource>();
            services.AddSingleton<IMarketDataSource>(sp => sp.GetRequiredService<SimulatedTickSource>());
        }
        services.AddHostedService(sp => sp.GetRequiredService<IMarketDataSource>());
    }
}
