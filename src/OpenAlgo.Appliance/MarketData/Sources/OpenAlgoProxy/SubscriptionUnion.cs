using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// What one upstream session should hold and what it does hold: per symbol, how many local
/// clients hold each mode (the reference-counted union) and the single mode subscribed upstream.
/// Only the highest wanted mode goes upstream, because OpenAlgo's proxy already sends a
/// higher-mode tick to lower-mode subscribers (spec §5.1) and its pool subscribes only the highest
/// mode at the broker (§9.6). Keys are unscoped. Not thread-safe: the owner locks.
/// </summary>
internal sealed class SubscriptionUnion
{
    private readonly Dictionary<SymbolKey, Holding> _holdings = [];

    public int Count => _holdings.Count;

    /// <summary>Some local client holds some symbol.</summary>
    public bool AnyWanted => _holdings.Values.Any(h => h.Wanted > 0);

    /// <summary>The mode subscribed upstream (0 = none).</summary>
    public int Upstream(SymbolKey key) => _holdings.TryGetValue(key, out var h) ? h.Upstream : 0;

    /// <summary>The highest mode any local client holds (0 = nobody).</summary>
    public int Wanted(SymbolKey key) => _holdings.TryGetValue(key, out var h) ? h.Wanted : 0;

    /// <summary>The depth to ask for when Depth is (re)subscribed: the last one a client asked for.</summary>
    public PyValue DepthFor(SymbolKey key) => _holdings.TryGetValue(key, out var h) && h.Depth is not null ? h.Depth : new PyInt(5);

    public void Add(SymbolKey key, int mode, PyValue? depth = null)
    {
        var h = Get(key);
        h.Counts[mode]++;
        if (mode == 3 && depth is not null) h.Depth = depth;
    }

    public void Remove(SymbolKey key, int mode)
    {
        if (!_holdings.TryGetValue(key, out var h) || h.Counts[mode] == 0) return;
        h.Counts[mode]--;
        if (h.Wanted == 0 && h.Upstream == 0) _holdings.Remove(key);
    }

    public void SetUpstream(SymbolKey key, int mode)
    {
        var h = Get(key);
        h.Upstream = mode;
        if (h.Wanted == 0 && h.Upstream == 0) _holdings.Remove(key);
    }

    /// <summary>A new upstream connection holds nothing yet.</summary>
    public void ForgetUpstream()
    {
        foreach (var key in _holdings.Keys.ToArray()) SetUpstream(key, 0);
    }

    /// <summary>Every symbol whose upstream mode differs from the wanted one, with both.</summary>
    public List<(SymbolKey Key, int Wanted, int Upstream)> Differences(IEnumerable<SymbolKey>? only = null)
    {
        var result = new List<(SymbolKey, int, int)>();
        foreach (var key in only ?? _holdings.Keys)
        {
            if (!_holdings.TryGetValue(key, out var h)) continue;
            if (h.Wanted != h.Upstream) result.Add((key, h.Wanted, h.Upstream));
        }
        return result;
    }

    private Holding Get(SymbolKey key)
    {
        if (!_holdings.TryGetValue(key, out var h)) _holdings[key] = h = new Holding();
        return h;
    }

    private sealed class Holding
    {
        public readonly int[] Counts = new int[4];
        public int Upstream;
        public PyValue? Depth;

        public int Wanted => Counts[3] > 0 ? 3 : Counts[2] > 0 ? 2 : Counts[1] > 0 ? 1 : 0;
    }
}
