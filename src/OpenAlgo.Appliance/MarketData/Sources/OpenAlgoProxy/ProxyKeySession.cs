using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// One API key's session with OpenAlgo's proxy, shared by every local client that presents that
/// key: OpenAlgo sees one connection however many clients there are. Three parts, each with its
/// own synchronisation: <see cref="ProxyLink"/> keeps the connection up (reconnects, published
/// connection), <see cref="SubscriptionBook"/> keeps the union of the clients' subscriptions and
/// what OpenAlgo holds (one lock), <see cref="ProxyPushRelay"/> fans what OpenAlgo pushes into the
/// hub under this session's <see cref="Scope"/>. This class sends the requests — in call order,
/// one at a time, behind <c>_requests</c>, because OpenAlgo answers each connection's messages in order.
/// </summary>
internal sealed partial class ProxyKeySession : IAsyncDisposable
{
    /// <summary>
    /// How long a client's <c>authenticate</c> waits for an upstream that is (re)starting: OpenAlgo's
    /// proxy comes back within seconds of a restart, and the SDK gives up on an answer after 5 s.
    /// </summary>
    private static readonly TimeSpan ConnectWait = TimeSpan.FromSeconds(4);
    /// <summary>OpenAlgo may create a broker adapter and log in to the broker while answering: be patient.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly string _apiKey;
    private readonly Uri _uri;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _requests = new(1, 1);
    private readonly SubscriptionBook _book = new();
    private readonly ProxyPushRelay _relay;
    private readonly ProxyLink _link;
    private int _reconcileScheduled;
    private volatile bool _everAccepted;
    private long _adapterRestores;

    /// <param name="clients">The local clients attached to this session (for the message trace's filters).</param>
    public ProxyKeySession(int scope, string apiKey, Uri uri, MarketDataHub hub, TimeProvider time, ILogger logger, Func<IEnumerable<ClientSession>>? clients = null)
    {
        Scope = scope;
        _apiKey = apiKey;
        _uri = uri;
        _logger = logger;
        Fingerprint = ApiKeyFingerprint.Of(apiKey);
        _relay = new ProxyPushRelay(scope, hub, _book, time, Fingerprint);
        _link = new ProxyLink(uri, Fingerprint, time, logger, _relay.OnPushed, hub.Trace?.Upstream(Fingerprint, clients ?? (static () => [])));
    }

    public int Scope { get; }
    public string Fingerprint { get; }

    /// <summary>
    /// How long a session with subscriptions may go without a tick before it asks OpenAlgo whether
    /// the user's broker adapter still exists (see <see cref="CheckAdapterAsync"/>).
    /// </summary>
    public TimeSpan AdapterCheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Local clients holding this session (owned by <see cref="OpenAlgoProxySource"/> under its lock).</summary>
    internal int Holders;

    /// <summary>SHA-256 of the key: the registry's index, so the key itself is never a dictionary key.</summary>
    internal string KeyId { get; init; } = "";

    public bool IsConnected => _link.Current is not null;

    /// <summary>OpenAlgo has accepted this key at least once (it is not a stranger's guess).</summary>
    public bool EverAccepted => _everAccepted;

    /// <summary>Times a vanished broker adapter was recreated by re-authenticating and resubscribing.</summary>
    public long AdapterRestores => Interlocked.Read(ref _adapterRestores);

    /// <summary>Connected, lost, refused: one line for systemd's STATUS.</summary>
    public event Action<string>? StateChanged;

    /// <summary>The connection loop runs and neither it nor the receive loop is stuck (the watchdog's view, see <see cref="ProxyLink.IsAlive"/>).</summary>
    public bool IsAlive(TimeSpan loopLimit, TimeSpan dispatchLimit) => _link.IsAlive(loopLimit, dispatchLimit);

    public void Start()
    {
        _link.StateChanged += message => StateChanged?.Invoke(message);
        _link.Start(ResyncAsync, ScheduleReconcile, _book.ForgetUpstream, WatchAdapterAsync, beat: AdapterCheckInterval);
    }

    /// <summary>Sends <c>authenticate</c> upstream for a local client and classifies the reply.</summary>
    public async Task<ProxyAuthResult> AuthenticateAsync(CancellationToken cancellationToken)
    {
        var connection = await _link.WaitConnectedAsync(ConnectWait, cancellationToken);
        if (connection is null) return ProxyAuthResult.Unavailable(_uri, _link.LastProblem);
        await _requests.WaitAsync(cancellationToken);
        ProxyReply reply;
        try
        {
            reply = await connection.RequestAsync(ProxyRequests.Authenticate(_apiKey), RequestTimeout, cancellationToken);
        }
        catch (ProxyDisconnectedException ex)
        {
            return ProxyAuthResult.Unavailable(_uri, ex.Message);
        }
        finally
        {
            _requests.Release();
        }
        var result = ProxyAuthResult.From(reply);
        if (result.Accepted) _everAccepted = true;
        return result;
    }

    /// <summary>
    /// Counts <paramref name="keys"/> (unscoped, distinct) at <paramref name="mode"/> for a client.
    /// Keys the upstream does not yet stream at that mode or higher are subscribed first and the
    /// upstream's per-symbol answer decides; a refused symbol is not counted. While the upstream is
    /// down everything is counted and sent on reconnect.
    /// </summary>
    public async Task<SubscriptionConfirmation> SubscribeAsync(IReadOnlyList<SymbolKey> keys, int mode, PyValue depth, CancellationToken cancellationToken)
    {
        var result = new SubscriptionConfirmation();
        await _requests.WaitAsync(cancellationToken);
        try
        {
            var needed = _book.NotStreamedAt(keys, mode);
            var connection = _link.Current;
            if (needed.Count > 0 && connection is not null)
            {
                try
                {
                    // In requests of ProxyRequests.SymbolsPerRequest: OpenAlgo works through a subscribe
                    // symbol by symbol on its one event loop and fans out no tick meanwhile (spec §3.5),
                    // so one request of 3,000 symbols would hold every OpenAlgo client's ticks for all
                    // of it; between requests its loop gets to them.
                    var replaced = new List<(SymbolKey Key, int Mode)>();
                    for (int start = 0; start < needed.Count; start += ProxyRequests.SymbolsPerRequest)
                    {
                        var chunk = needed.GetRange(start, Math.Min(ProxyRequests.SymbolsPerRequest, needed.Count - start));
                        var reply = await connection.RequestAsync(ProxyRequests.Subscribe(chunk, mode, depth), RequestTimeout, cancellationToken);
                        if (!ProxyRequests.TryReadSubscribe(reply, result))
                        {
                            // BROKER_ERROR "Broker adapter not found" and the like: the client sees it as is.
                            // Earlier requests were subscribed upstream but are not counted: the reconcile drops them.
                            result.Envelope = reply.Raw;
                            if (start > 0) ScheduleReconcile();
                            return result;
                        }
                        replaced.AddRange(_book.Streamed(chunk, mode, result.Refused));
                    }
                    if (replaced.Count > 0) await UnsubscribeAsync(connection, replaced, cancellationToken);
                }
                catch (ProxyDisconnectedException)
                {
                    // Counted below; the reconnect resubscribes the whole union.
                }
            }
            _book.Hold(keys, mode, depth, result.Refused);
            return result;
        }
        finally
        {
            _requests.Release();
        }
    }

    /// <summary>Asks the upstream a question whose answer the client gets verbatim; null when the upstream is down.</summary>
    public async Task<byte[]?> ForwardAsync(PyDict request, CancellationToken cancellationToken)
    {
        var connection = _link.Current;
        if (connection is null) return null;
        await _requests.WaitAsync(cancellationToken);
        try
        {
            return (await connection.RequestAsync(request, RequestTimeout, cancellationToken)).Raw;
        }
        catch (ProxyDisconnectedException)
        {
            return null;
        }
        finally
        {
            _requests.Release();
        }
    }

    /// <summary>A client gave up <paramref name="modes"/> (bits) on <paramref name="key"/>; the upstream follows in the background.</summary>
    public void Release(SymbolKey key, byte modes)
    {
        _book.Release(key, modes);
        ScheduleReconcile();
    }

    public void SetOrders(ClientSession client, bool subscribed)
    {
        if (_book.SetOrders(client, subscribed)) ScheduleReconcile();
    }

    /// <summary>
    /// OpenAlgo drops a user's broker adapter when the broker token changes (its cache invalidation
    /// on every morning login, spec §6.5) and tells no one: connected clients stay subscribed and get
    /// nothing until they authenticate and subscribe again — the SDK never notices. When ticks stop
    /// for <see cref="AdapterCheckInterval"/>, the session asks <c>get_broker_info</c>; if the adapter
    /// is gone it authenticates again (which makes OpenAlgo create one with the new token) and
    /// resends the whole union, so every client's feed comes back without any client doing anything.
    /// </summary>
    private async Task WatchAdapterAsync(ProxyConnection connection, CancellationToken token)
    {
        if (_relay.Silence < AdapterCheckInterval || !_book.AnyWanted) return;
        await CheckAdapterAsync(connection, token);
    }

    private async Task CheckAdapterAsync(ProxyConnection connection, CancellationToken token)
    {
        await _requests.WaitAsync(token);
        try
        {
            var info = await connection.RequestAsync(ProxyRequests.BrokerInfo(), RequestTimeout, token);
            if (info.Type != "broker_info" || info.Dict!.Get("adapter_status") is not PyStr { Value: "disconnected" }) return;
            Log.AdapterGone(_logger, Fingerprint);
            var (auth, resent) = await ReauthenticateAndResendAsync(connection, requireBroker: true, token);
            if (!resent)
            {
                Log.Refused(_logger, Fingerprint, auth.Message);
                return;
            }
            Interlocked.Increment(ref _adapterRestores);
            Log.AdapterRestored(_logger, Fingerprint);
            StateChanged?.Invoke($"proxy session {Fingerprint}: broker adapter recreated and resubscribed");
        }
        catch (ProxyDisconnectedException)
        {
            // The reconnect resyncs everything anyway.
        }
        finally
        {
            _relay.ResetSilence();
            _requests.Release();
        }
    }

    /// <summary>A new connection: unless the key was never accepted, authenticate again and send the whole union before serving anyone.</summary>
    private async Task<LinkSetupProblem?> ResyncAsync(ProxyConnection connection, CancellationToken cancellationToken)
    {
        _relay.ResetSilence();
        if (!_everAccepted) return null;
        try
        {
            await _requests.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return LinkSetupProblem.ConnectionLost;
        }
        try
        {
            var (auth, resent) = await ReauthenticateAndResendAsync(connection, requireBroker: false, cancellationToken);
            if (!resent)
            {
                _link.LastProblem = auth.Message;
                Log.Refused(_logger, Fingerprint, auth.Message);
                StateChanged?.Invoke($"proxy session {Fingerprint}: key refused on reconnect");
                return LinkSetupProblem.KeyRefused;
            }
            return null;
        }
        catch (Exception ex) when (ex is ProxyDisconnectedException or OperationCanceledException)
        {
            _link.LastProblem = ex.Message;
            return LinkSetupProblem.ConnectionLost;
        }
        finally
        {
            _requests.Release();
        }
    }

    /// <summary>
    /// Authenticates again on <paramref name="connection"/>; when accepted (with a broker, if
    /// <paramref name="requireBroker"/>), OpenAlgo holds nothing for this session any more — a new
    /// connection, or a new adapter — so the whole union is sent again. Caller holds <c>_requests</c>.
    /// </summary>
    private async Task<(ProxyAuthResult Auth, bool Resent)> ReauthenticateAndResendAsync(ProxyConnection connection, bool requireBroker, CancellationToken cancellationToken)
    {
        var auth = ProxyAuthResult.From(await connection.RequestAsync(ProxyRequests.Authenticate(_apiKey), RequestTimeout, cancellationToken));
        if (requireBroker ? auth.Outcome != ProxyAuthOutcome.Success : !auth.Accepted) return (auth, false);
        _book.ForgetUpstream();
        await ReconcileCoreAsync(connection, cancellationToken);
        return (auth, true);
    }

    private void ScheduleReconcile()
    {
        if (Interlocked.Exchange(ref _reconcileScheduled, 1) == 1) return;
        _ = Task.Run(ReconcileAsync);
    }

    private async Task ReconcileAsync()
    {
        var token = _link.Closed;
        try
        {
            await _requests.WaitAsync(token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            Volatile.Write(ref _reconcileScheduled, 0);
            if (_link.Current is { } connection) await ReconcileCoreAsync(connection, token);
        }
        catch (Exception ex) when (ex is ProxyDisconnectedException or OperationCanceledException)
        {
            // The reconnect resyncs everything.
        }
        finally
        {
            _requests.Release();
        }
    }

    /// <summary>Brings the upstream in line with the book: upgrades and downgrades first, then drops, then order updates. Caller holds <c>_requests</c>.</summary>
    private async Task ReconcileCoreAsync(ProxyConnection connection, CancellationToken cancellationToken)
    {
        var (differences, ordersWanted, ordersUpstream) = _book.Plan();

        // Subscribe at the wanted mode (one request per mode and depth), then drop the mode it replaces.
        var replaced = new List<(SymbolKey Key, int Mode)>();
        foreach (var group in differences.Where(d => d.Wanted > 0).GroupBy(d => (d.Wanted, Depth: d.Wanted == 3 ? _book.DepthFor(d.Key).Repr() : "5")))
        {
            var items = group.ToList();
            for (int i = 0; i < items.Count; i += ProxyRequests.SymbolsPerRequest)
            {
                var chunk = items.Skip(i).Take(ProxyRequests.SymbolsPerRequest).ToList();
                PyValue depth = group.Key.Wanted == 3 ? _book.DepthFor(chunk[0].Key) : new PyInt(5);
                var reply = await connection.RequestAsync(ProxyRequests.Subscribe(chunk.Select(c => c.Key), group.Key.Wanted, depth), RequestTimeout, cancellationToken);
                var result = new SubscriptionConfirmation();
                if (!ProxyRequests.TryReadSubscribe(reply, result))
                {
                    Log.ResubscribeFailed(_logger, Fingerprint, System.Text.Encoding.UTF8.GetString(reply.Raw));
                    continue;
                }
                foreach (var (key, wanted, _) in chunk)
                {
                    if (result.Refused.TryGetValue(key, out var refusal))
                    {
                        _book.Refuse(key, wanted);
                        Log.SymbolRefused(_logger, Fingerprint, key.ToString(), wanted, (refusal.Get("message") as PyStr)?.Value ?? "refused");
                        continue;
                    }
                    int current = _book.SetUpstream(key, wanted);
                    if (current > 0 && current != wanted) replaced.Add((key, current));
                }
            }
        }
        foreach (var (key, wanted, upstream) in differences)
        {
            if (wanted == 0 && upstream > 0) replaced.Add((key, upstream));
        }
        if (replaced.Count > 0)
        {
            await UnsubscribeAsync(connection, replaced, cancellationToken);
            foreach (var (key, mode) in replaced) _book.Unsubscribed(key, mode);
        }

        if (ordersWanted != ordersUpstream)
        {
            await connection.RequestAsync(ProxyRequests.Orders(ordersWanted), RequestTimeout, cancellationToken);
            _book.SetOrdersUpstream(ordersWanted);
        }
    }

    private static async Task UnsubscribeAsync(ProxyConnection connection, List<(SymbolKey Key, int Mode)> items, CancellationToken cancellationToken)
    {
        for (int i = 0; i < items.Count; i += ProxyRequests.SymbolsPerRequest)
        {
            await connection.RequestAsync(ProxyRequests.Unsubscribe(items.Skip(i).Take(ProxyRequests.SymbolsPerRequest)), RequestTimeout, cancellationToken);
        }
    }

    public ValueTask DisposeAsync() => _link.DisposeAsync();

    private static partial class Log
    {
        [LoggerMessage(1404, LogLevel.Error, "OpenAlgo refused API key {KeyFingerprint} on reconnect: {Message}; retrying")]
        public static partial void Refused(ILogger logger, string keyFingerprint, string message);

        [LoggerMessage(1405, LogLevel.Warning, "OpenAlgo proxy session {KeyFingerprint}: resubscribe failed: {Reply}")]
        public static partial void ResubscribeFailed(ILogger logger, string keyFingerprint, string reply);

        [LoggerMessage(1407, LogLevel.Warning, "OpenAlgo proxy session {KeyFingerprint}: no ticks and OpenAlgo reports the broker adapter gone (broker token changed?); authenticating again and resubscribing")]
        public static partial void AdapterGone(ILogger logger, string keyFingerprint);

        [LoggerMessage(1408, LogLevel.Information, "OpenAlgo proxy session {KeyFingerprint}: broker adapter recreated and every subscription sent again")]
        public static partial void AdapterRestored(ILogger logger, string keyFingerprint);

        [LoggerMessage(1406, LogLevel.Warning, "OpenAlgo proxy session {KeyFingerprint}: OpenAlgo refused {Symbol} at mode {Mode}: {Message}")]
        public static partial void SymbolRefused(ILogger logger, string keyFingerprint, string symbol, int mode, string message);
    }
}
