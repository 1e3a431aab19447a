namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>One client on one symbol, with the modes it holds as bits (LTP=1, Quote=2, Depth=4).</summary>
internal readonly record struct Subscriber(ClientSession Session, byte Modes);
