using OpenAlgo.Appliance.MarketData.Gateway;

namespace OpenAlgo.Appliance.MarketData.Sources;

/// <summary>
/// What feeds a site's hub: OpenAlgo's ZeroMQ bus, OpenAlgo's own proxy, or the simulator. The one
/// seam the rest of the appliance sees — the watchdog reads <see cref="Progress"/>, systemd's
/// STATUS reads <see cref="Status"/> and <see cref="Changed"/>, the client protocol talks to
/// <see cref="Gateway"/> when the source has one — so nothing branches on the concrete source.
/// Started and stopped with the site.
/// </summary>
internal interface IMarketDataSource : IHostedService
{
    /// <summary>What it is, for logs and the watchdog: "market-data bus", "simulated feed", "OpenAlgo proxy sessions".</summary>
    string Name { get; }

    /// <summary>
    /// Advances while the source's own loops run (the bus's receive thread, the simulator's timer,
    /// the proxy sessions' connection loops). The watchdog pets systemd only while it advances, so
    /// a wedged source gets the service restarted instead of silently feeding nobody.
    /// </summary>
    long Progress { get; }

    /// <summary>A fragment for systemd's STATUS line (null: nothing worth saying beyond the hub's counters).</summary>
    string? Status { get; }

    /// <summary>Something worth a STATUS line at once: a session connected, was lost or refused.</summary>
    event Action<string>? Changed;

    /// <summary>
    /// Sources that authenticate and subscribe upstream on each client's behalf (OpenAlgo's proxy)
    /// expose that here; null when keys are checked by the site's own authenticator and every
    /// subscription stands locally (the bus, the simulator).
    /// </summary>
    ISubscriptionGateway? Gateway { get; }
}
