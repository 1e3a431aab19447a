using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Gateway;

/// <summary>The upstream's per-symbol answers to a subscribe (keys unscoped), or its whole-request error envelope.</summary>
internal sealed class SubscriptionConfirmation
{
    /// <summary>The upstream's error reply (for example BROKER_ERROR "Broker adapter not found"), relayed as is.</summary>
    public byte[]? Envelope { get; set; }
    public Dictionary<SymbolKey, PyDict> Accepted { get; } = [];
    public Dictionary<SymbolKey, PyDict> Refused { get; } = [];
}
