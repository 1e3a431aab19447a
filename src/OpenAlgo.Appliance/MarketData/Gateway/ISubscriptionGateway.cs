using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Gateway;

/// <summary>
/// Who decides, for the client protocol, whether a key is good and whether a subscription stands.
/// <see cref="AuthenticatorGateway"/> answers locally (the site's authenticator; every reservation
/// stands); a source that works through an upstream on each client's behalf — OpenAlgo's proxy —
/// relays both questions there. <see cref="OpenAlgoProtocol"/> talks only to this seam.
/// </summary>
internal interface ISubscriptionGateway
{
    /// <summary>
    /// Checks <paramref name="apiKey"/>. A verdict that admits the key may hold something for the
    /// client (an upstream session); the caller then either <see cref="Attach"/>es a client to it or
    /// <see cref="Decline"/>s it.
    /// </summary>
    ValueTask<KeyVerdict> AuthenticateAsync(string apiKey, CancellationToken cancellationToken);

    /// <summary>
    /// The client is authenticated with <paramref name="verdict"/>: what it held becomes the
    /// client's, its <see cref="ClientSession.Scope"/> is set, a standing order subscription moves with it.
    /// When the scope changes, the caller has already released what the client held under the old one.
    /// </summary>
    void Attach(ClientSession client, KeyVerdict verdict);

    /// <summary>An admitting verdict that will not be used (the user is at its connection limit).</summary>
    void Decline(KeyVerdict verdict);

    /// <summary>False when every reservation stands as made: <see cref="ConfirmAsync"/> is never needed.</summary>
    bool ConfirmsSubscriptions { get; }

    /// <summary>
    /// Asks the upstream about symbols new to the client at <paramref name="mode"/> (unscoped,
    /// distinct keys): its per-symbol answers, or its whole-request error.
    /// </summary>
    ValueTask<SubscriptionConfirmation> ConfirmAsync(ClientSession client, IReadOnlyList<SymbolKey> keys, int mode, PyValue depth, CancellationToken cancellationToken);

    /// <summary>The client subscribed to (or left) order updates.</summary>
    void SetOrders(ClientSession client, bool subscribed);

    /// <summary>The upstream's own <c>get_broker_info</c> reply, verbatim; null to answer locally.</summary>
    ValueTask<byte[]?> BrokerInfoAsync(ClientSession client, CancellationToken cancellationToken);

    /// <summary>The upstream's own <c>get_supported_brokers</c> reply, verbatim; null to answer locally.</summary>
    ValueTask<byte[]?> SupportedBrokersAsync(CancellationToken cancellationToken);
}
