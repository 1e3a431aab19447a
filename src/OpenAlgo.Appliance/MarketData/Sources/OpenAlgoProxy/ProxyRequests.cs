using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>The requests a key session sends OpenAlgo's proxy, written as OpenAlgo's own clients write them, and its subscribe answers read back.</summary>
internal static class ProxyRequests
{
    /// <summary>OpenAlgo takes at most this many symbols per request without complaint.</summary>
    public const int SymbolsPerRequest = 500;

    public static PyDict Authenticate(string apiKey) => new PyDict().Set("action", "authenticate").Set("api_key", apiKey);

    public static PyDict BrokerInfo() => new PyDict().Set("action", "get_broker_info");

    public static PyDict Orders(bool subscribe) => new PyDict().Set("action", subscribe ? "subscribe_orders" : "unsubscribe_orders");

    public static PyDict Subscribe(IEnumerable<SymbolKey> keys, int mode, PyValue depth)
    {
        var symbols = new PyList();
        foreach (var key in keys) symbols.Items.Add(new PyDict().Set("symbol", key.Symbol).Set("exchange", key.Exchange));
        return new PyDict().Set("action", "subscribe").Set("symbols", symbols).Set("mode", mode).Set("depth", depth);
    }

    /// <summary>List form: OpenAlgo reads each entry's own mode (§4.6).</summary>
    public static PyDict Unsubscribe(IEnumerable<(SymbolKey Key, int Mode)> items)
    {
        var symbols = new PyList();
        foreach (var (key, mode) in items) symbols.Items.Add(new PyDict().Set("symbol", key.Symbol).Set("exchange", key.Exchange).Set("mode", mode));
        return new PyDict().Set("action", "unsubscribe").Set("symbols", symbols);
    }

    /// <summary>A <c>subscribe</c> reply's per-symbol entries, by unscoped key; false when the reply is a whole-request error.</summary>
    public static bool TryReadSubscribe(ProxyReply reply, SubscriptionConfirmation confirmation)
    {
        if (reply.Dict?.Get("type") is not PyStr { Value: "subscribe" }) return false;
        if (reply.Dict.Get("subscriptions") is not PyList entries) return true;
        foreach (var item in entries.Items)
        {
            if (item is not PyDict entry || entry.Get("symbol") is not { } symbol || entry.Get("exchange") is not { } exchange) continue;
            var key = new SymbolKey(exchange.Str(), symbol.Str());
            if (entry.Get("status") is PyStr { Value: "success" }) confirmation.Accepted.TryAdd(key, entry);
            else confirmation.Refused.TryAdd(key, entry);
        }
        return true;
    }
}
