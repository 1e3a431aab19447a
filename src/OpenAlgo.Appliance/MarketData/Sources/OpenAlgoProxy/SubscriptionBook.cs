using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// A key session's bookkeeping, thread-safe behind one lock: what its clients want
/// (<see cref="SubscriptionUnion"/>), what OpenAlgo was told, which symbol modes OpenAlgo refused
/// (not asked again until the connection or adapter is new), and who wants order updates. Clients'
/// message loops, the reconcile task and the connection loop all read and write it; none of them
/// waits on I/O while holding the lock.
/// </summary>
internal sealed class SubscriptionBook
{
    private readonly Lock _lock = new();
    private readonly SubscriptionUnion _union = new();
    private readonly HashSet<(SymbolKey, int)> _refused = [];
    private readonly HashSet<ClientSession> _orderHolders = [];
    private ClientSession[] _orderSnapshot = [];
    private bool _ordersUpstream;

    /// <summary>Clients with <c>subscribe_orders</c>, as an immutable snapshot for the receive loop.</summary>
    public ClientSession[] OrderTargets => Volatile.Read(ref _orderSnapshot);

    /// <summary>Some client holds some symbol: silence from upstream means something.</summary>
    public bool AnyWanted
    {
        get { lock (_lock) return _union.AnyWanted; }
    }

    /// <summary>Of <paramref name="keys"/>, those OpenAlgo does not stream at <paramref name="mode"/> or higher yet.</summary>
    public List<SymbolKey> NotStreamedAt(IReadOnlyList<SymbolKey> keys, int mode)
    {
        lock (_lock) return keys.Where(k => _union.Upstream(k) < mode).ToList();
    }

    /// <summary>
    /// OpenAlgo now streams <paramref name="keys"/> at <paramref name="mode"/> (except those in
    /// <paramref name="refused"/>); returns the lower or other modes they replace, to unsubscribe.
    /// </summary>
    public List<(SymbolKey Key, int Mode)> Streamed(IEnumerable<SymbolKey> keys, int mode, IReadOnlyDictionary<SymbolKey, PyDict> refused)
    {
        var replaced = new List<(SymbolKey, int)>();
        lock (_lock)
        {
            foreach (var key in keys)
            {
                if (refused.ContainsKey(key)) continue;
                int previous = _union.Upstream(key);
                _union.SetUpstream(key, mode);
                if (previous > 0 && previous != mode) replaced.Add((key, previous));
            }
        }
        return replaced;
    }

    /// <summary>One client now holds <paramref name="keys"/> at <paramref name="mode"/> (except those refused).</summary>
    public void Hold(IEnumerable<SymbolKey> keys, int mode, PyValue depth, IReadOnlyDictionary<SymbolKey, PyDict> refused)
    {
        lock (_lock)
        {
            foreach (var key in keys)
            {
                if (!refused.ContainsKey(key)) _union.Add(key, mode, depth);
            }
        }
    }

    /// <summary>A client gave up <paramref name="modes"/> (bits) on <paramref name="key"/>.</summary>
    public void Release(SymbolKey key, byte modes)
    {
        lock (_lock)
        {
            for (int mode = 1; mode <= 3; mode++)
            {
                if ((modes & ModeTags.Bit(mode)) != 0) _union.Remove(key, mode);
            }
        }
    }

    /// <summary>True when the set of order-update holders changed.</summary>
    public bool SetOrders(ClientSession client, bool subscribed)
    {
        lock (_lock)
        {
            bool changed = subscribed ? _orderHolders.Add(client) : _orderHolders.Remove(client);
            if (changed) Volatile.Write(ref _orderSnapshot, [.. _orderHolders]);
            return changed;
        }
    }

    /// <summary>What reconciling must do: symbols whose upstream mode differs from the wanted one (less those refused at that mode), and whether order updates are wanted.</summary>
    public (List<(SymbolKey Key, int Wanted, int Upstream)> Differences, bool OrdersWanted, bool OrdersUpstream) Plan()
    {
        lock (_lock)
        {
            var differences = _union.Differences().Where(d => !_refused.Contains((d.Key, d.Wanted))).ToList();
            return (differences, _orderHolders.Count > 0, _ordersUpstream);
        }
    }

    /// <summary>The depth to ask for when Depth is (re)subscribed: the last one a client asked for.</summary>
    public PyValue DepthFor(SymbolKey key)
    {
        lock (_lock) return _union.DepthFor(key);
    }

    /// <summary>OpenAlgo refused <paramref name="key"/> at <paramref name="mode"/>: not asked again on this connection.</summary>
    public void Refuse(SymbolKey key, int mode)
    {
        lock (_lock) _refused.Add((key, mode));
    }

    /// <summary>OpenAlgo streams <paramref name="key"/> at <paramref name="mode"/>; returns the mode it streamed before.</summary>
    public int SetUpstream(SymbolKey key, int mode)
    {
        lock (_lock)
        {
            int previous = _union.Upstream(key);
            _union.SetUpstream(key, mode);
            return previous;
        }
    }

    /// <summary>After an unsubscribe of <paramref name="mode"/>: nothing is streamed unless a client wants it again meanwhile.</summary>
    public void Unsubscribed(SymbolKey key, int mode)
    {
        lock (_lock)
        {
            if (_union.Wanted(key) == 0 && _union.Upstream(key) == mode) _union.SetUpstream(key, 0);
        }
    }

    public void SetOrdersUpstream(bool subscribed)
    {
        lock (_lock) _ordersUpstream = subscribed;
    }

    /// <summary>What OpenAlgo was told no longer holds: the connection, or the adapter behind it, is new.</summary>
    public void ForgetUpstream()
    {
        lock (_lock)
        {
            _union.ForgetUpstream();
            _ordersUpstream = false;
            _refused.Clear();
        }
    }
}
