using System.Buffers;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// Everyone subscribed to one (exchange, symbol). The subscriber array is copy-on-write: the tick
/// path reads it without a lock, changes (rare next to ticks) swap in a new array.
/// </summary>
internal sealed class SymbolEntry
{
    private readonly Lock _gate = new();
    private Subscriber[] _subscribers = [];

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

    public Subscriber[] Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>The union of all subscribers' modes (what an upstream would need to stream).</summary>
    public byte UnionModes
    {
        get
        {
            byte union = 0;
            foreach (var s in Subscribers) union |= s.Modes;
            return union;
        }
    }

    /// <summary>Sets the session's modes on this symbol; 0 removes it.</summary>
    public void Set(ClientSession session, byte modes)
    {
        lock (_gate)
        {
            var current = _subscribers;
            int index = Array.FindIndex(current, s => ReferenceEquals(s.Session, session));
            Subscriber[] next;
            if (index < 0)
            {
                if (modes == 0) return;
                next = new Subscriber[current.Length + 1];
                current.CopyTo(next, 0);
                next[^1] = new Subscriber(session, modes);
            }
            else if (modes == 0)
            {
                next = new Subscriber[current.Length - 1];
                Array.Copy(current, 0, next, 0, index);
                Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            }
            else
            {
                next = (Subscriber[])current.Clone();
                next[index] = new Subscriber(session, modes);
            }
            Volatile.Write(ref _subscribers, next);
        }
    }
}
