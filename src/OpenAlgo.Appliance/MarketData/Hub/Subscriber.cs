namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// One client on one symbol, with the modes it holds as bits (LTP=1, Quote=2, Depth=4; 0 = gone).
/// Immutable and a reference, so a <see cref="SymbolEntry"/> slot changes with one atomic write.
/// </summary>
internal sealed record Subscriber(ClientSession Session, byte Modes);
