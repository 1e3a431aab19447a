using System.Net;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// The hub's view of one market-data WebSocket: identity, subscriptions, timers and its outbox.
/// Subscription state is touched only by the connection's own message loop (messages are handled
/// strictly in order, as OpenAlgo does); the fan-out reads only <see cref="Broker"/> and the outbox.
/// </summary>
internal sealed class ClientSession
{
    private static long s_nextId;

    private readonly TimeProvider _time;
    private string? _broker;
    private long _closingSince;
    private double _tokens;
    private long _tokensUpdated;

    public ClientSession(string listener, IPAddress? remoteAddress, Outbox outbox, TimeProvider time, int initialTokens)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Listener = listener;
        RemoteAddress = remoteAddress;
        Outbox = outbox;
        _time = time;
        ConnectedAt = time.GetTimestamp();
        LastReceivedAt = ConnectedAt;
        LastPingAt = ConnectedAt;
        _tokens = initialTokens;
        _tokensUpdated = ConnectedAt;
    }

    public long Id { get; }
    public string Listener { get; }
    public IPAddress? RemoteAddress { get; }
    public Outbox Outbox { get; }
    public long ConnectedAt { get; }

    /// <summary>
    /// Longest market-data message this client receives compressed (permessage-deflate); 0 when it
    /// did not negotiate compression. See <see cref="DeflateParameters.MaxCompressedMessageLength"/>.
    /// </summary>
    public int DeflateMessageLimit { get; init; }

    public string? UserId { get; private set; }
    public string? Broker => Volatile.Read(ref _broker);
    public bool IsAuthenticated => UserId is not null;
    public UserState? User { get; private set; }

    /// <summary>Modes held per symbol; owned by this connection's message loop.</summary>
    public Dictionary<SymbolKey, byte> Subscriptions { get; } = [];
    public bool OrdersSubscribed { get; set; }

    /// <summary>The feed partition this client's symbols live in (see <see cref="SymbolKey.Scope"/>); 0 = the shared bus.</summary>
    public int Scope { get; set; }

    public long LastReceivedAt;
    public long LastPingAt;
    /// <summary>When the outstanding Ping was sent; 0 when none is outstanding.</summary>
    public long PingSentAt;
    public uint PingPayload;

    public bool IsClosing => Volatile.Read(ref _closingSince) != 0;
    public long ClosingSince => Volatile.Read(ref _closingSince);

    /// <summary>Aborts the transport (set by the endpoint): used when a close handshake does not finish.</summary>
    public Action? Abort { get; set; }
    public Action? CancelRead { get; set; }

    internal void SetIdentity(UserState user, string? broker)
    {
        User = user;
        UserId = user.UserId;
        Volatile.Write(ref _broker, broker);
    }

    /// <summary>
    /// Sends a close frame after whatever is queued; the connection ends when the peer answers or
    /// the close timeout passes. <paramref name="because"/> is the operator's explanation for the
    /// disconnect log line (the wire reason is kept short); <paramref name="warn"/> makes that line a warning.
    /// </summary>
    public bool Close(int code, string reason, string? because = null, bool warn = false)
    {
        if (Interlocked.CompareExchange(ref _closingSince, _time.GetTimestamp(), 0) != 0) return false;
        string why = because ?? reason;
        ClosedBecause = why.Length > 0 ? $"closed by the appliance with {code} ({why})" : $"closed by the appliance with {code}";
        CloseIsWarning = warn;
        Outbox.EnqueueClose(WebSocketFrames.Close(code, reason));
        return true;
    }

    /// <summary>Set by the first <see cref="Close"/>: what the disconnect log line says when the appliance closed first.</summary>
    public string? ClosedBecause { get; private set; }

    public bool CloseIsWarning { get; private set; }

    /// <summary>Token bucket for client messages; false when the client is over its rate.</summary>
    public bool TryTakeMessageToken(double perSecond, int burst)
    {
        long now = _time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + _time.GetElapsedTime(_tokensUpdated, now).TotalSeconds * perSecond);
        _tokensUpdated = now;
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }

    public override string ToString() => $"client {Id} ({Listener} {RemoteAddress})";
}
