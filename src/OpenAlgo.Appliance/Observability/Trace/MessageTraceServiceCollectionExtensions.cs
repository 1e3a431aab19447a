using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Observability.Trace;

internal static class MessageTraceServiceCollectionExtensions
{
    /// <summary>
    /// The process's <see cref="MessageTrace"/> (started before the sites, so their first messages can
    /// be traced; SIGHUP re-applies <c>Logging:MessageTrace</c>). Each site reaches it through its
    /// <see cref="SiteMessageTrace"/> (<see cref="AddSiteMessageTrace"/>).
    /// </summary>
    public static IServiceCollection AddMessageTrace(this IServiceCollection services, ApplianceOptions options)
    {
        services.AddSingleton(sp => new MessageTrace(options.LogsDirectory, options.Logging.MessageTrace,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<MessageTrace>>()));
        services.AddHostedService(sp => sp.GetRequiredService<MessageTrace>());
        return services;
    }

    /// <summary>A site's view of the process's trace (in the site's container; the hub hands it to connections and sources).</summary>
    public static IServiceCollection AddSiteMessageTrace(this IServiceCollection services, SiteOptions site, IServiceProvider root)
    {
        services.AddSingleton(new SiteMessageTrace(site.Name, root.GetRequiredService<MessageTrace>()));
        return services;
    }
}
