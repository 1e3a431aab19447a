using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Sites;

/// <summary>What a site is built and started with from the process around it.</summary>
/// <param name="Root">The process's services: the few a site shares are handed on from here.</param>
/// <param name="Options">The whole configuration (global keys: state directory, the ACME account).</param>
/// <param name="Named">Sites are configured: logs and STATUS name each site (the implicit one is not named).</param>
/// <param name="SystemdSockets">Sockets systemd passed, by name (<c>internal</c>, <c>internal-&lt;site&gt;</c>).</param>
/// <param name="Configure">Extra registrations for every site's container (tests).</param>
internal sealed record SiteContext(
    IServiceProvider Root,
    ApplianceOptions Options,
    bool Named,
    IReadOnlyDictionary<string, ulong> SystemdSockets,
    Action<SiteOptions, IServiceCollection>? Configure);
