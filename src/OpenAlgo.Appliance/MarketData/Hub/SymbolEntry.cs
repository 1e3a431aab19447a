using System.Buffers;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// Everyone subscribed to one (exchange, symbol). The tick path reads the slot array without a lock;
/// changes write one slot, so subscribing costs the same whatever the symbol's audience. (A
/// copy-on-write array cost a copy of every subscriber per change: measured 16 KB allocated per
/// subscribe at 1,000 subscribers and 160 KB — the large-object heap — at 10,000, so one client's
/// 3,000-symbol subscribe on popular symbols allocated up to 480 MB.)
/// <para>
/// A client keeps its slot for as long as the array lives, also after it leaves (modes 0, skipped
/// by the fan-out) and if it comes back, so one pass over one array never meets a client twice.
/// The array is rebuilt without the departed once they outnumber the present (amortized O(1) per
/// change), and grows by doubling; a reader on the old array sees the state of a moment ago.
/// </para>
/// </summary>
internal sealed class SymbolEntry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ClientSession, int> _positions = new(ReferenceEqualityComparer.Instance);
    private Subscriber?[] _slots = [];
    private int _used;
    private int _live;

    public SymbolEntry(SymbolKey key)
    {
        Key = key;
        var prefix = new ArrayBufferWriter<byte>(64);
        prefix.Write("{\"type\": \"market_data\", \"symbol\": "u8);
        PyJsonWriter.WriteString(prefix, key.Symbol);
        prefix.Write(", \"exchange\": "u8);
        PyJsonWriter.WriteString(prefix, key.Exchange);
        prefix.Write(", \"mode\": "u8);
        EnvelopePrefix = prefix.WrittenSpan.ToArray();
    }

    public SymbolKey Key { get; }

    /// <summary><c>{"type": "market_data", "symbol": "…", "exchange": "…", "mode": </c> — encoded once per symbol.</summary>
    public byte[] EnvelopePrefix { get; }

    /// <summary>
    /// The slots, read lock-free by the fan-out: skip nulls (unused capacity) and modes 0 (departed).
    /// </summary>
    public Subscriber?[] Subscribers => Volatile.Read(ref _slots);

    /// <summary>Clients holding at least one mode.</summary>
    public int Count
    {
        get { lock (_gate) return _live; }
    }

    /// <summary>The union of all subscribers' modes (what an upstream would need to stream).</summary>
    public byte UnionModes
    {
        get
        {
            byte union = 0;
            foreach (var s in Subscribers) union |= s?.Modes ?? 0;
            return union;
        }
    }

    /// <summary>Sets the session's modes on this symbol; 0 removes it. O(1) amortized, whatever the number of subscribers.</summary>
    public void Set(ClientSession session, byte modes)
    {
        lock (_gate)
        {
            if (_positions.TryGetValue(session, out int index))
            {
                var old = _slots[index]!;
                if (old.Modes == modes) return;
                Volatile.Write(ref _slots[index], new Subscriber(session, modes));
                if (old.Modes == 0) _live++;
                else if (modes == 0) _live--;
                if (modes == 0 && _used - _live > _live) Compact();
                return;
            }
            if (modes == 0) return;
            if (_used == _slots.Length)
            {
                var bigger = new Subscriber?[Math.Max(4, _slots.Length * 2)];
                Array.Copy(_slots, bigger, _used);
                Volatile.Write(ref _slots, bigger);
            }
            Volatile.Write(ref _slots[_used], new Subscriber(session, modes));
            _positions[session] = _used++;
            _live++;
        }
    }

    /// <summary>A new array without the departed (and their sessions let go); the old one stays valid for readers on it.</summary>
    private void Compact()
    {
        var next = _live == 0 ? [] : new Subscriber?[Math.Max(4, _live * 2)];
        int used = 0;
        _positions.Clear();
        for (int i = 0; i < _used; i++)
        {
            var s = _slots[i]!;
            if (s.Modes == 0) continue;
            next[used] = s;
            _positions[s.Session] = used++;
        }
        _used = used;
        Volatile.Write(ref _slots, next);
    }
}
