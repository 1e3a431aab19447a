using System.Buffers;
using System.Collections.Concurrent;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// The in-process market-data hub both doors (<c>/ws</c> and the internal listener) share: the
/// subscription index, per-user accounting and the fan-out. A tick is routed with one dictionary
/// lookup, serialized once per distinct (mode tag × broker) — and compressed at most once more for
/// the clients that negotiated permessage-deflate — and the same frame bytes are queued to every
/// recipient: no per-recipient JSON, compression or allocation.
/// </summary>
internal sealed partial class MarketDataHub
{
    [ThreadStatic] private static FrameCache? t_frameCache;
    [ThreadStatic] private static WakeBatch? t_batch;

    private readonly ConcurrentDictionary<long, ClientSession> _sessions = new();
    private readonly ConcurrentDictionary<SymbolKey, SymbolEntry> _symbols = new();
    private readonly ConcurrentDictionary<string, UserState> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _brokerSuffixes = new(StringComparer.Ordinal);
    private HubLimits _limits = new();
    private int _clientCount;
    private long _ticksIn;
    private long _framesOut;
    private long _framesCompressed;

    public HubLimits Limits
    {
        get => Volatile.Read(ref _limits);
        set => Volatile.Write(ref _limits, value);
    }

    /// <summary>The clock tick arrival is stamped with; the same one the outboxes measure flushes with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Refusals, slow-client closes and retired conflation counts, for the meters.</summary>
    public HubCounters Counters { get; } = new();

    /// <summary>Where each client's outbox reports tick-received → frame-written time (one measurement per flush); null: not measured.</summary>
    public Observability.TickLatency? Latency { get; set; }

    public int ClientCount => Volatile.Read(ref _clientCount);
    public long TicksIn => Interlocked.Read(ref _ticksIn);
    public long FramesOut => Interlocked.Read(ref _framesOut);

    /// <summary>Market-data frames compressed with permessage-deflate: one per tick × (mode tag, broker) at most, whatever the recipients.</summary>
    public long FramesCompressed => Interlocked.Read(ref _framesCompressed);
    public ICollection<ClientSession> Sessions => _sessions.Values;

    /// <summary>
    /// Raised (on the caller's thread) when a client gives up modes on a symbol — unsubscribe or
    /// disconnect — so a feed that streams per subscription can shrink what it asks for.
    /// </summary>
    public event Action<ClientSession, SymbolKey, byte>? Released;

    /// <summary>Raised once per connection after it has been dropped from the hub.</summary>
    public event Action<ClientSession>? Unregistered;

    /// <summary>Admits a new connection unless the server is at <c>Limits:MaxClients</c>.</summary>
    public bool TryRegister(ClientSession session)
    {
        if (Interlocked.Increment(ref _clientCount) > Limits.MaxClients)
        {
            Interlocked.Decrement(ref _clientCount);
            return false;
        }
        _sessions[session.Id] = session;
        return true;
    }

    /// <summary>Drops everything the session held; other clients of the same symbols keep flowing.</summary>
    public void Unregister(ClientSession session)
    {
        if (!_sessions.TryRemove(session.Id, out _)) return;
        Interlocked.Decrement(ref _clientCount);
        Counters.Retire(session.Outbox);
        var released = Released;
        foreach (var (key, modes) in session.Subscriptions)
        {
            if (_symbols.TryGetValue(key, out var entry)) entry.Set(session, 0);
            released?.Invoke(session, key, modes);
        }
        var user = session.User;
        if (user is not null)
        {
            lock (user.Gate)
            {
                foreach (var key in session.Subscriptions.Keys) ReleaseUserSymbol(user, key);
                user.Clients--;
                if (user.OrderSubscribers.Remove(session)) user.OrderSubscriberSnapshot = [.. user.OrderSubscribers];
            }
        }
        session.Subscriptions.Clear();
        Unregistered?.Invoke(session);
    }

    /// <summary>
    /// Records the session as <paramref name="userId"/>'s; null when the user is at
    /// <c>Limits:MaxClientsPerUser</c>. Re-authentication as another user moves the session's symbols.
    /// </summary>
    public UserState? Authorize(ClientSession session, string userId, string? broker)
    {
        var user = _users.GetOrAdd(userId, static id => new UserState(id));
        var previous = session.User;
        if (ReferenceEquals(previous, user))
        {
            session.SetIdentity(user, broker);
            return user;
        }
        lock (user.Gate)
        {
            if (user.Clients >= Limits.MaxClientsPerUser) return null;
            user.Clients++;
            foreach (var key in session.Subscriptions.Keys)
            {
                user.Symbols[key] = user.Symbols.GetValueOrDefault(key) + 1;
            }
            if (session.OrdersSubscribed && user.OrderSubscribers.Add(session)) user.OrderSubscriberSnapshot = [.. user.OrderSubscribers];
        }
        if (previous is not null)
        {
            lock (previous.Gate)
            {
                previous.Clients--;
                foreach (var key in session.Subscriptions.Keys) ReleaseUserSymbol(previous, key);
                if (previous.OrderSubscribers.Remove(session)) previous.OrderSubscriberSnapshot = [.. previous.OrderSubscribers];
            }
        }
        session.SetIdentity(user, broker);
        return user;
    }

    /// <summary>
    /// Adds <paramref name="modes"/> to what the session holds on <paramref name="key"/> (routing
    /// follows with <see cref="Route"/>, after the ack is queued, so no tick overtakes the ack).
    /// Returns the refusal text when a symbol limit is reached.
    /// </summary>
    public string? Reserve(ClientSession session, SymbolKey key, byte modes)
    {
        var user = session.User ?? throw new InvalidOperationException("reserve before authenticate");
        if (session.Subscriptions.TryGetValue(key, out byte held))
        {
            session.Subscriptions[key] = (byte)(held | modes);
            return null;
        }
        var limits = Limits;
        if (session.Subscriptions.Count >= limits.MaxSymbolsPerClient)
        {
            return $"Maximum symbols per connection reached: {limits.MaxSymbolsPerClient}. Unsubscribe some symbols first.";
        }
        lock (user.Gate)
        {
            int refs = user.Symbols.GetValueOrDefault(key);
            if (refs == 0 && user.Symbols.Count >= limits.SymbolCapacityPerUser)
            {
                // OpenAlgo's ConnectionPool wording, byte for byte (× goes out as \u00d7).
                return $"Maximum capacity reached: {limits.BrokerConnectionsPerUser} connections \u00d7 {limits.SymbolsPerBrokerConnection} symbols = {limits.SymbolCapacityPerUser} symbols. Currently subscribed to {user.Symbols.Count} symbols.";
            }
            user.Symbols[key] = refs + 1;
        }
        session.Subscriptions[key] = modes;
        return null;
    }

    /// <summary>
    /// Removes <paramref name="modes"/> from the session's hold on <paramref name="key"/> and re-routes
    /// at once. <paramref name="notify"/> false undoes a <see cref="Reserve"/> that a feed refused, so
    /// <see cref="Released"/> is not raised for something the feed never counted.
    /// </summary>
    public void Release(ClientSession session, SymbolKey key, byte modes, bool notify = true)
    {
        if (!session.Subscriptions.TryGetValue(key, out byte held)) return;
        byte removed = (byte)(held & modes);
        byte remaining = (byte)(held & ~modes);
        if (remaining == 0)
        {
            session.Subscriptions.Remove(key);
            var user = session.User;
            if (user is not null)
            {
                lock (user.Gate) ReleaseUserSymbol(user, key);
            }
        }
        else
        {
            session.Subscriptions[key] = remaining;
        }
        Route(session, key);
        if (notify && removed != 0) Released?.Invoke(session, key, removed);
    }

    /// <summary>Makes the routing index match what the session holds on <paramref name="key"/>.</summary>
    public void Route(ClientSession session, SymbolKey key)
    {
        byte modes = session.Subscriptions.GetValueOrDefault(key);
        if (modes == 0)
        {
            if (_symbols.TryGetValue(key, out var existing)) existing.Set(session, 0);
            return;
        }
        _symbols.GetOrAdd(key, static k => new SymbolEntry(k)).Set(session, modes);
    }

    public void SetOrderSubscription(ClientSession session, bool subscribed)
    {
        session.OrdersSubscribed = subscribed;
        var user = session.User;
        if (user is null) return;
        lock (user.Gate)
        {
            bool changed = subscribed ? user.OrderSubscribers.Add(session) : user.OrderSubscribers.Remove(session);
            if (changed) user.OrderSubscriberSnapshot = [.. user.OrderSubscribers];
        }
    }

    /// <summary>
    /// Starts a burst on this thread: ticks published until <see cref="EndBatch"/> are queued at once
    /// but their recipients' send loops are woken once, at the end (see <see cref="WakeBatch"/>).
    /// Nests; only the outermost end wakes. Order updates and replies are never held back.
    /// </summary>
    public static void BeginBatch() => (t_batch ??= new WakeBatch()).Depth++;

    /// <summary>Ends the burst begun on this thread and wakes every client that got a frame in it.</summary>
    public static void EndBatch()
    {
        var batch = t_batch;
        if (batch is null || batch.Depth == 0) return;
        if (--batch.Depth == 0) batch.WakeAll();
    }

    /// <summary>
    /// Fans one tick out. <paramref name="data"/> is the payload already in json.dumps form.
    /// Returns the number of frames queued.
    /// </summary>
    public int Publish(SymbolKey key, int mode, ReadOnlySpan<byte> data)
    {
        Interlocked.Increment(ref _ticksIn);
        if (!_symbols.TryGetValue(key, out var entry)) return 0;
        var subscribers = entry.Subscribers;
        if (subscribers.Length == 0) return 0;
        // One clock read per tick (not per recipient): each outbox keeps the oldest unflushed one.
        long received = Time.GetTimestamp();
        var cache = t_frameCache ??= new FrameCache();
        var batch = t_batch is { Depth: > 0 } open ? open : null;
        int queued = 0;
        try
        {
            foreach (var subscriber in subscribers)
            {
                if (subscriber is null) continue; // capacity not used yet
                byte tag = ModeTags.TagFor(subscriber.Modes, mode); // 0 also for a departed client's slot
                if (tag == 0) continue;
                var session = subscriber.Session;
                string broker = session.Broker ?? "";
                int index = cache.Find(tag, broker);
                if (index < 0) index = cache.Add(tag, broker, BuildFrame(entry, tag, broker, data));
                byte[] frame = session.DeflateMessageLimit == 0 ? cache.Frame(index) : cache.Deflated(index, session.DeflateMessageLimit);
                if (session.Outbox.EnqueueMarketData(frame, entry, tag, received, batch)) queued++;
            }
        }
        finally
        {
            if (cache.Compressions > 0) Interlocked.Add(ref _framesCompressed, cache.Compressions);
            cache.Clear();
        }
        Interlocked.Add(ref _framesOut, queued);
        return queued;
    }

    /// <summary>Sends an order update (payload in json.dumps form) to the user's <c>subscribe_orders</c> clients.</summary>
    public int PublishOrderUpdate(string userId, ReadOnlySpan<byte> payload)
    {
        if (!_users.TryGetValue(userId, out var user)) return 0;
        var targets = Volatile.Read(ref user.OrderSubscriberSnapshot);
        if (targets.Length == 0) return 0;
        var frame = WebSocketFrames.Text(payload);
        int queued = 0;
        foreach (var session in targets)
        {
            if (session.Outbox.EnqueueControl(frame)) queued++;
        }
        return queued;
    }

    /// <summary>Symbols with at least one subscriber, with the highest mode any of them holds.</summary>
    public List<(SymbolKey Key, int Mode)> ActiveSymbols()
    {
        var result = new List<(SymbolKey, int)>();
        foreach (var (key, entry) in _symbols)
        {
            int mode = ModeTags.Highest(entry.UnionModes);
            if (mode > 0) result.Add((key, mode));
        }
        return result;
    }

    /// <summary>The union of the modes subscribers hold on <paramref name="key"/> (bits), 0 when nobody does.</summary>
    public byte ModesOf(SymbolKey key) => _symbols.TryGetValue(key, out var entry) ? entry.UnionModes : (byte)0;

    /// <summary>Distinct (symbol, exchange, mode) keys with subscribers — OpenAlgo's <c>total_symbols</c>.</summary>
    public int ActiveSubscriptionKeys()
    {
        int count = 0;
        foreach (var entry in _symbols.Values)
        {
            byte union = entry.UnionModes;
            count += (union & 1) + ((union >> 1) & 1) + ((union >> 2) & 1);
        }
        return count;
    }

    /// <summary>Symbols with at least one subscriber in each mode (bits of <see cref="SymbolEntry.UnionModes"/>): the meters' subscriptions{mode}.</summary>
    public (int Ltp, int Quote, int Depth) SubscribedSymbolsByMode()
    {
        int ltp = 0, quote = 0, depth = 0;
        foreach (var entry in _symbols.Values)
        {
            byte union = entry.UnionModes;
            ltp += union & 1;
            quote += (union >> 1) & 1;
            depth += (union >> 2) & 1;
        }
        return (ltp, quote, depth);
    }

    private byte[] BuildFrame(SymbolEntry entry, byte tag, string broker, ReadOnlySpan<byte> data)
    {
        byte[] suffix = _brokerSuffixes.GetOrAdd(broker, static b =>
        {
            var w = new ArrayBufferWriter<byte>(32);
            w.Write(", \"broker\": "u8);
            PyJsonWriter.WriteString(w, b);
            w.Write("}"u8);
            return w.WrittenSpan.ToArray();
        });
        ReadOnlySpan<byte> dataKey = ", \"data\": "u8;
        int payloadLength = entry.EnvelopePrefix.Length + 1 + dataKey.Length + data.Length + suffix.Length;
        var frame = new byte[WebSocketFrames.HeaderLength(payloadLength) + payloadLength];
        var span = frame.AsSpan();
        int pos = WebSocketFrames.WriteHeader(span, WebSocketFrames.OpText, payloadLength);
        entry.EnvelopePrefix.CopyTo(span[pos..]);
        pos += entry.EnvelopePrefix.Length;
        span[pos++] = (byte)('0' + tag);
        dataKey.CopyTo(span[pos..]);
        pos += dataKey.Length;
        data.CopyTo(span[pos..]);
        pos += data.Length;
        suffix.CopyTo(span[pos..]);
        return frame;
    }

    private static void ReleaseUserSymbol(UserState user, SymbolKey key)
    {
        int refs = user.Symbols.GetValueOrDefault(key);
        if (refs <= 1) user.Symbols.Remove(key);
        else user.Symbols[key] = refs - 1;
    }
}
