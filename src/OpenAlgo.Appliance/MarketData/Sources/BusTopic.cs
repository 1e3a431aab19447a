using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.MarketData.Sources;

internal enum BusTopicKind
{
    MarketData,
    CacheInvalidate,
    OrderUpdate,
    /// <summary><c>*_positions</c>, <c>*_margins</c>: published on the bus, not for clients.</summary>
    Ignored,
    /// <summary>Not a topic OpenAlgo routes; <see cref="BusTopic.Problem"/> says why.</summary>
    Invalid,
}

/// <summary>A parsed ZeroMQ topic (spec §9.3).</summary>
internal sealed record BusTopic(BusTopicKind Kind, SymbolKey Key = default, int Mode = 0, string? Problem = null)
{
    private static readonly string[] IndexExchanges = ["NSE", "BSE", "MCX", "GLOBAL"];

    /// <summary>
    /// OpenAlgo's routing of a topic: <c>CACHE_INVALIDATE*</c>, <c>*_orders</c>, <c>*_positions</c>/<c>*_margins</c>, else
    /// <c>{EXCHANGE}_{SYMBOL}_{MODE}</c> where <c>NSE_INDEX</c>, <c>BSE_INDEX</c>, <c>MCX_INDEX</c> and <c>GLOBAL_INDEX</c>
    /// are two-part exchanges and the symbol keeps its underscores (<c>CRYPTO_SOL_INR_LTP</c>).
    /// </summary>
    public static BusTopic Parse(string topic)
    {
        if (topic.StartsWith("CACHE_INVALIDATE", StringComparison.Ordinal)) return new(BusTopicKind.CacheInvalidate);
        if (topic.EndsWith("_orders", StringComparison.Ordinal)) return new(BusTopicKind.OrderUpdate);
        if (topic.EndsWith("_positions", StringComparison.Ordinal) || topic.EndsWith("_margins", StringComparison.Ordinal)) return new(BusTopicKind.Ignored);

        string[] parts = topic.Split('_');
        if (parts.Length < 3) return new(BusTopicKind.Invalid, Problem: "expected EXCHANGE_SYMBOL_MODE");
        string exchange;
        string symbol;
        if (IndexExchanges.Contains(parts[0]) && parts[1] == "INDEX")
        {
            exchange = parts[0] + "_INDEX";
            symbol = string.Join('_', parts, 2, parts.Length - 3);
        }
        else
        {
            exchange = parts[0];
            symbol = string.Join('_', parts, 1, parts.Length - 2);
        }
        if (symbol.Length == 0) return new(BusTopicKind.Invalid, Problem: "empty symbol");
        int mode = parts[^1].ToUpperInvariant() switch
        {
            "LTP" => 1,
            "QUOTE" => 2,
            "DEPTH" => 3,
            _ => 0,
        };
        if (mode == 0) return new(BusTopicKind.Invalid, Problem: $"invalid mode '{parts[^1]}'");
        return new(BusTopicKind.MarketData, new SymbolKey(exchange, symbol), mode);
    }
}
