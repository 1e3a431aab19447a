using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Proxy;

internal static class FlaskProxyServiceCollectionExtensions
{
    /// <summary>
    /// YARP's forwarder, which every site's proxy uses (no route tables — the edge router decides
    /// what is proxied), with its request logging turned down.
    /// </summary>
    public static IServiceCollection AddFlaskForwarder(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        // YARP logs every forwarded request at Information (full URL with query string, where
        // OpenAlgo puts broker callback codes) and each failure at Warning with a stack trace.
        // FlaskProxy writes one concise line per failure instead. AddSerilog registers a rule for
        // its provider, which outranks a provider-less rule: the Serilog one is needed too.
        services.Configure<LoggerFilterOptions>(filters => filters
            .AddFilter("Yarp", LogLevel.Error)
            .AddFilter<Serilog.Extensions.Logging.SerilogLoggerProvider>("Yarp", LogLevel.Error));
        return services;
    }

    /// <summary>
    /// A site's reverse proxy to its OpenAlgo Flask app: the connection pool to the app, the
    /// Socket.IO gate with its origin policy and session check. Registered even with
    /// <c>Proxy:Upstream</c> empty; it then forwards nothing.
    /// </summary>
    public static IServiceCollection AddFlaskProxy(this IServiceCollection services, SiteOptions options)
    {
        services.AddOriginPolicy(options);
        services.AddSingleton<FlaskClient>();
        services.AddSingleton<SessionCheck>();
        services.AddSingleton<SocketIoGate>();
        services.AddSingleton<FlaskProxy>();
        return services;
    }
}
