namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>A routing key: exchange and symbol exactly as the topic and the client spell them (case-sensitive).</summary>
internal readonly record struct SymbolKey(string Exchange, string Symbol)
{
    public override string ToString() => $"{Exchange}:{Symbol}";
}
