using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Proxy;

internal static class FlaskProxyServiceCollectionExtensions
{
    /// <summary>
    /// The reverse proxy to OpenAlgo's Flask app: YARP's forwarder (no route tables — the edge
    /// router decides what is proxied), the connection pool to the Flask app, the Socket.IO gate and its
    /// session check. Registered even with <c>Proxy:Upstream</c> empty; it then forwards nothing.
    /// </summary>
    public static IServiceCollection AddFlaskProxy(this IServiceCollection services, ApplianceOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOriginPolicy(options);
        services.AddHttpForwarder();
        // YARP logs every forwarded request at Information (full URL with query string, where
        // OpenAlgo puts broker callback codes) and each failure at Warning with a stack trace.
        // FlaskProxy writes one concise line per failure instead. AddSerilog registers a rule for
        // its provider, which outranks a provider-less rule: the Serilog one is needed too.
        services.Configure<LoggerFilterOptions>(filters => filters
            .AddFilter("Yarp", LogLevel.Error)
            .AddFilter<Serilog.Extensions.Logging.SerilogLoggerProvider>("Yarp", LogLevel.Error));
        services.AddSingleton<FlaskClient>();
        services.AddSingleton<SessionCheck>();
        services.AddSingleton<SocketIoGate>();
        services.AddSingleton<FlaskProxy>();
        return services;
    }
}
