namespace OpenAlgo.Appliance.MarketData.Gateway;

internal enum KeyVerdictKind
{
    /// <summary>The key is good and has a broker: the client is authenticated.</summary>
    Valid,
    /// <summary>The key is good but no broker is set up: authenticated anyway, then BROKER_ERROR (OpenAlgo §4.4 step 3).</summary>
    ValidWithoutBroker,
    /// <summary>AUTHENTICATION_ERROR: not authenticated.</summary>
    Invalid,
    /// <summary>No verdict could be had (database unreadable, upstream down): SERVER_ERROR, try again.</summary>
    Unavailable,
}

/// <summary>
/// A gateway's answer to <c>authenticate</c>. <see cref="Reply"/> is the exact reply to relay when
/// the answer came from upstream (null: the protocol writes OpenAlgo's reply itself).
/// </summary>
internal sealed record KeyVerdict(KeyVerdictKind Kind, string? UserId = null, string? Broker = null, string Message = "", byte[]? Reply = null)
{
    /// <summary>The feed partition an admitted client's symbols live in (<see cref="Hub.SymbolKey.Scope"/>).</summary>
    public int Scope { get; init; }

    /// <summary>Unavailable: close an unauthenticated client with 1013 so the SDK backs off and reconnects.</summary>
    public bool CloseUnauthenticated { get; init; }

    /// <summary>What the gateway holds for the client until <see cref="ISubscriptionGateway.Attach"/> or <see cref="ISubscriptionGateway.Decline"/>.</summary>
    public object? Hold { get; init; }

    public bool Admits => Kind is KeyVerdictKind.Valid or KeyVerdictKind.ValidWithoutBroker;
}
