using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Security;

internal static class SecurityServiceCollectionExtensions
{
    /// <summary>The WebSocket origin policy for <c>/ws</c> and <c>/socket.io/</c> on the public listener.</summary>
    public static IServiceCollection AddOriginPolicy(this IServiceCollection services, ApplianceOptions options)
    {
        services.TryAddSingleton(new OriginPolicy(options));
        services.TryAddSingleton<WebSocketOriginGuard>();
        return services;
    }
}
