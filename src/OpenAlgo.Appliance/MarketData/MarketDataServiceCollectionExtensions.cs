using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Auth.Database;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.Sources;
using OpenAlgo.Appliance.MarketData.Stats;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

namespace OpenAlgo.Appliance.MarketData;

internal static class MarketDataServiceCollectionExtensions
{
    /// <summary>The market-data hub, its protocol, authenticator, connection supervisor and tick source.</summary>
    public static IServiceCollection AddMarketData(this IServiceCollection services, ApplianceOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new MarketDataHub { Limits = HubLimits.From(options.Limits) });
        if (options.Auth.Mode == AuthMode.OpenAlgoDatabase)
        {
            services.TryAddSingleton<IApiKeyAuthenticator>(sp => new OpenAlgoDatabaseAuthenticator(options.Auth.DatabasePath, options.Auth.ApiKeyPepper,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<OpenAlgoDatabaseAuthenticator>>()));
            services.AddHostedService(sp => new DatabaseProbe(sp.GetRequiredService<IApiKeyAuthenticator>(), options.Auth.DatabasePath));
        }
        services.TryAddSingleton<IApiKeyAuthenticator>(_ => new StaticKeyAuthenticator(options.Auth.StaticKeys));
        bool upstream = options.MarketData.Source == MarketDataSourceKind.OpenAlgo;
        services.AddSingleton(sp => new OpenAlgoProtocol(
            sp.GetRequiredService<MarketDataHub>(),
            sp.GetRequiredService<IApiKeyAuthenticator>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OpenAlgoProtocol>>(),
            options.MarketData.SupportedBrokers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            upstream ? sp.GetRequiredService<OpenAlgoProxySource>() : null));
        services.AddSingleton<MarketDataEndpoint>();
        services.AddSingleton<ConnectionSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionSupervisor>());

        if (!string.IsNullOrWhiteSpace(options.MarketData.StatsFile))
        {
            services.AddHostedService(sp => new ProxyStatsWriter(options.MarketData.StatsFile, sp.GetRequiredService<MarketDataHub>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ProxyStatsWriter>>()));
        }

        if (upstream)
        {
            services.AddSingleton(sp => new OpenAlgoProxySource(new Uri(options.MarketData.OpenAlgoUpstreamUrl),
                sp.GetRequiredService<MarketDataHub>(), sp.GetRequiredService<ILoggerFactory>()));
            services.AddHostedService(sp => sp.GetRequiredService<OpenAlgoProxySource>());
        }
        else if (options.MarketData.Source == MarketDataSourceKind.Zmq)
        {
            services.AddSingleton<ZmqTickSource>();
            services.AddHostedService(sp => sp.GetRequiredService<ZmqTickSource>());
        }
        else
        {
            services.AddSingleton<SimulatedTickSource>();
            services.AddHostedService(sp => sp.GetRequiredService<SimulatedTickSource>());
        }
        return services;
    }
}
