using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Security;

internal static class SecurityServiceCollectionExtensions
{
    /// <summary>A site's origin policy for <c>/socket.io/</c> (and <c>/ws</c> with <c>Security:CheckWsOrigin</c>) on the public listener.</summary>
    public static IServiceCollection AddOriginPolicy(this IServiceCollection services, SiteOptions site)
    {
        services.TryAddSingleton(new OriginPolicy(site));
        services.TryAddSingleton<OriginGuard>();
        return services;
    }
}
