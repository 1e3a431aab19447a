namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// A routing key: exchange and symbol exactly as the topic and the client spell them (case-sensitive).
/// <paramref name="Scope"/> partitions the index by feed: 0 is the shared bus (or simulator); with
/// <c>MarketData:Source=OpenAlgo</c> each upstream session has its own scope, so ticks it receives
/// reach only the clients that share its API key — exactly what those clients saw connected directly.
/// </summary>
internal readonly record struct SymbolKey(string Exchange, string Symbol, int Scope = 0)
{
    public SymbolKey Unscoped => Scope == 0 ? this : new(Exchange, Symbol);

    public override string ToString() => $"{Exchange}:{Symbol}";
}
