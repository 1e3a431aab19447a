using System.Buffers;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// One API key's session with OpenAlgo's proxy, shared by every local client that presents that
/// key: OpenAlgo sees one connection however many clients there are. It holds the union of those
/// clients' subscriptions (<see cref="SubscriptionUnion"/>), keeps the upstream in step with it,
/// fans received ticks into the hub under its own <see cref="Scope"/>, relays order updates, and
/// when the connection drops reconnects with backoff, re-authenticates and resubscribes while the
/// local clients stay connected. All upstream I/O is serialized in call order by <c>_gate</c>.
/// </summary>
internal sealed partial class ProxyKeySession : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    /// <summary>
    /// How long a client's <c>authenticate</c> waits for an upstream that is (re)starting: OpenAlgo's
    /// proxy comes back within seconds of a restart, and the SDK gives up on an answer after 5 s.
    /// </summary>
    private static readonly TimeSpan ConnectWait = TimeSpan.FromSeconds(4);
    /// <summary>OpenAlgo may create a broker adapter and log in to the broker while answering: be patient.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private const int SymbolsPerRequest = 500;

    private readonly string _apiKey;
    private readonly Uri _uri;
    private readonly MarketDataHub _hub;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _state = new();
    private readonly SubscriptionUnion _union = new();
    private readonly HashSet<(SymbolKey, int)> _refused = [];
    private readonly HashSet<ClientSession> _orderHolders = [];
    private readonly CancellationTokenSource _closed = new();
    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private ClientSession[] _orderSnapshot = [];
    private bool _ordersUpstream;
    private int _reconcileScheduled;
    private ProxyConnection? _connection;
    private TaskCompletionSource _attempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _lastProblem = "not connected yet";
    private volatile bool _everAccepted;
    private Task _running = Task.CompletedTask;
    private long _lastTickAt = Environment.TickCount64;
    private long _adapterRestores;

    /// <summary>
    /// How long a session with subscriptions may go without a tick before it asks OpenAlgo whether
    /// the user's broker adapter still exists (see <see cref="CheckAdapterAsync"/>).
    /// </summary>
    public TimeSpan AdapterCheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    public ProxyKeySession(int scope, string apiKey, Uri uri, MarketDataHub hub, ILogger logger)
    {
        Scope = scope;
        _apiKey = apiKey;
        _uri = uri;
        _hub = hub;
        _logger = logger;
        Fingerprint = ApiKeyFingerprint.Of(apiKey);
    }

    public int Scope { get; }
    public string Fingerprint { get; }

    /// <summary>Local clients holding this session (owned by <see cref="OpenAlgoProxySource"/> under its lock).</summary>
    internal int Holders;

    /// <summary>SHA-256 of the key: the registry's index, so the key itself is never a dictionary key.</summary>
    internal string KeyId { get; init; } = "";

    public bool IsConnected => Volatile.Read(ref _connection) is not null;

    /// <summary>OpenAlgo has accepted this key at least once (it is not a stranger's guess).</summary>
    public bool EverAccepted => _everAccepted;

    /// <summary>Times a vanished broker adapter was recreated by re-authenticating and resubscribing.</summary>
    public long AdapterRestores => Interlocked.Read(ref _adapterRestores);

    /// <summary>Connected, lost, refused: one line for systemd's STATUS.</summary>
    public event Action<string>? StateChanged;

    public void Start() => _running = Task.Run(RunAsync);

    /// <summary>Sends <c>authenticate</c> upstream for a local client and classifies the reply.</summary>
    public async Task<ProxyAuthResult> AuthenticateAsync(CancellationToken cancellationToken)
    {
        var connection = await WaitConnectedAsync(cancellationToken);
        if (connection is null) return ProxyAuthResult.Unavailable(_uri, _lastProblem);
        await _gate.WaitAsync(cancellationToken);
        ProxyReply reply;
        try
        {
            reply = await connection.RequestAsync(AuthenticateRequest(), RequestTimeout, cancellationToken);
        }
        catch (ProxyDisconnectedException ex)
        {
            return ProxyAuthResult.Unavailable(_uri, ex.Message);
        }
        finally
        {
            _gate.Release();
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
    public async Task<ProxySubscribeResult> SubscribeAsync(IReadOnlyList<SymbolKey> keys, int mode, PyValue depth, CancellationToken cancellationToken)
    {
        var result = new ProxySubscribeResult();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            List<SymbolKey> needed;
            lock (_state) needed = keys.Where(k => _union.Upstream(k) < mode).ToList();
            var connection = Volatile.Read(ref _connection);
            if (needed.Count > 0 && connection is not null)
            {
                try
                {
                    var reply = await connection.RequestAsync(SubscribeRequest(needed, mode, depth), RequestTimeout, cancellationToken);
                    if (reply.Dict?.Get("type") is not PyStr { Value: "subscribe" })
                    {
                        // BROKER_ERROR "Broker adapter not found" and the like: the client sees it as is.
                        result.Envelope = reply.Raw;
                        return result;
                    }
                    ReadEntries(reply, result);
                    var replaced = new List<(SymbolKey Key, int Mode)>();
                    lock (_state)
                    {
                        foreach (var key in needed)
                        {
                            if (result.Refused.ContainsKey(key)) continue;
                            int previous = _union.Upstream(key);
                            _union.SetUpstream(key, mode);
                            if (previous > 0 && previous != mode) replaced.Add((key, previous));
                        }
                    }
                    if (replaced.Count > 0) await UnsubscribeAsync(connection, replaced, cancellationToken);
                }
                catch (ProxyDisconnectedException)
                {
                    // Counted below; the reconnect resubscribes the whole union.
                }
            }
            lock (_state)
            {
                foreach (var key in keys)
                {
                    if (!result.Refused.ContainsKey(key)) _union.Add(key, mode, depth);
                }
            }
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Asks the upstream a question whose answer the client gets verbatim; null when the upstream is down.</summary>
    public async Task<byte[]?> ForwardAsync(PyDict request, CancellationToken cancellationToken)
    {
        var connection = Volatile.Read(ref _connection);
        if (connection is null) return null;
        await _gate.WaitAsync(cancellationToken);
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
            _gate.Release();
        }
    }

    /// <summary>A client gave up <paramref name="modes"/> (bits) on <paramref name="key"/>; the upstream follows in the background.</summary>
    public void Release(SymbolKey key, byte modes)
    {
        lock (_state)
        {
            for (int mode = 1; mode <= 3; mode++)
            {
                if ((modes & ModeTags.Bit(mode)) != 0) _union.Remove(key, mode);
            }
        }
        ScheduleReconcile();
    }

    public void SetOrders(ClientSession client, bool subscribed)
    {
        lock (_state)
        {
            bool changed = subscribed ? _orderHolders.Add(client) : _orderHolders.Remove(client);
            if (!changed) return;
            Volatile.Write(ref _orderSnapshot, [.. _orderHolders]);
        }
        ScheduleReconcile();
    }

    private async Task RunAsync()
    {
        int failures = 0;
        var token = _closed.Token;
        while (!token.IsCancellationRequested)
        {
            ProxyConnection connection;
            try
            {
                connection = await ProxyConnection.ConnectAsync(_uri, OnPushed, ConnectTimeout, token);
            }
            catch (Exception ex) when (!token.IsCancellationRequested && ex is System.Net.WebSockets.WebSocketException or IOException or OperationCanceledException or System.Net.Http.HttpRequestException)
            {
                _lastProblem = ex.InnerException?.Message ?? ex.Message;
                // The first failure of an outage, then one line a minute: retries come every second.
                if (failures % 60 == 0) Log.ConnectFailed(_logger, Fingerprint, _uri, _lastProblem, failures + 1);
                SignalAttempt();
                await DelayAsync(Backoff(failures++), token);
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (_everAccepted && await ResyncAsync(connection, token) is { } problem)
            {
                await connection.DisposeAsync();
                SignalAttempt();
                // A refused key will not be accepted a second later: ask again every 30 s, not every second.
                await DelayAsync(problem == ResyncProblem.KeyRefused ? RefusedRetry : Backoff(failures++), token);
                continue;
            }
            failures = 0;
            Volatile.Write(ref _connection, connection);
            SignalAttempt();
            Log.Connected(_logger, Fingerprint, _uri);
            StateChanged?.Invoke($"proxy session {Fingerprint} connected");
            ScheduleReconcile();

            await WatchAsync(connection, token);
            Volatile.Write(ref _connection, null);
            ForgetUpstream();
            _lastProblem = connection.CloseReason;
            await connection.DisposeAsync();
            if (token.IsCancellationRequested) break;
            Log.Lost(_logger, Fingerprint, _lastProblem);
            StateChanged?.Invoke($"proxy session {Fingerprint} lost ({_lastProblem}), reconnecting");
            await DelayAsync(Backoff(0), token);
        }
        SignalAttempt();
    }

    private enum ResyncProblem
    {
        KeyRefused,
        ConnectionLost,
    }

    private static readonly TimeSpan RefusedRetry = TimeSpan.FromSeconds(30);

    /// <summary>Waits for the connection to end, checking on the broker adapter whenever ticks stop.</summary>
    private async Task WatchAsync(ProxyConnection connection, CancellationToken token)
    {
        Volatile.Write(ref _lastTickAt, Environment.TickCount64);
        try
        {
            while (!connection.Completion.IsCompleted)
            {
                await Task.WhenAny(connection.Completion, Task.Delay(AdapterCheckInterval, token));
                token.ThrowIfCancellationRequested();
                if (connection.Completion.IsCompleted) break;
                bool subscribed;
                lock (_state) subscribed = _union.AnyWanted;
                if (subscribed && Environment.TickCount64 - Volatile.Read(ref _lastTickAt) >= AdapterCheckInterval.TotalMilliseconds)
                {
                    await CheckAdapterAsync(connection, token);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// OpenAlgo drops a user's broker adapter when the broker token changes (its cache invalidation
    /// on every morning login, spec §6.5) and tells no one: connected clients stay subscribed and get
    /// nothing until they authenticate and subscribe again — the SDK never notices. When ticks stop,
    /// the session asks <c>get_broker_info</c>; if the adapter is gone it authenticates again (which
    /// makes OpenAlgo create one with the new token) and resends the whole union, so every client's
    /// feed comes back without any client doing anything.
    /// </summary>
    private async Task CheckAdapterAsync(ProxyConnection connection, CancellationToken token)
    {
        await _gate.WaitAsync(token);
        try
        {
            var info = await connection.RequestAsync(new PyDict().Set("action", "get_broker_info"), RequestTimeout, token);
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
            Volatile.Write(ref _lastTickAt, Environment.TickCount64);
            _gate.Release();
        }
    }

    /// <summary>After a reconnect: authenticate again and send the whole union before serving anyone. Null when done.</summary>
    private async Task<ResyncProblem?> ResyncAsync(ProxyConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return ResyncProblem.ConnectionLost;
        }
        try
        {
            var (auth, resent) = await ReauthenticateAndResendAsync(connection, requireBroker: false, cancellationToken);
            if (!resent)
            {
                _lastProblem = auth.Message;
                Log.Refused(_logger, Fingerprint, auth.Message);
                StateChanged?.Invoke($"proxy session {Fingerprint}: key refused on reconnect");
                return ResyncProblem.KeyRefused;
            }
            return null;
        }
        catch (Exception ex) when (ex is ProxyDisconnectedException or OperationCanceledException)
        {
            _lastProblem = ex.Message;
            return ResyncProblem.ConnectionLost;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Authenticates again on <paramref name="connection"/>; when accepted (with a broker, if
    /// <paramref name="requireBroker"/>), OpenAlgo holds nothing for this session any more — a new
    /// connection, or a new adapter — so the whole union is sent again. Caller holds the gate.
    /// </summary>
    private async Task<(ProxyAuthResult Auth, bool Resent)> ReauthenticateAndResendAsync(ProxyConnection connection, bool requireBroker, CancellationToken cancellationToken)
    {
        var auth = ProxyAuthResult.From(await connection.RequestAsync(AuthenticateRequest(), RequestTimeout, cancellationToken));
        if (requireBroker ? auth.Outcome != ProxyAuthOutcome.Success : !auth.Accepted) return (auth, false);
        ForgetUpstream();
        await ReconcileCoreAsync(connection, cancellationToken);
        return (auth, true);
    }

    /// <summary>What the upstream was told no longer holds (the connection or the adapter behind it is new).</summary>
    private void ForgetUpstream()
    {
        lock (_state)
        {
            _union.ForgetUpstream();
            _ordersUpstream = false;
            _refused.Clear();
        }
    }

    private void ScheduleReconcile()
    {
        if (Interlocked.Exchange(ref _reconcileScheduled, 1) == 1) return;
        _ = Task.Run(ReconcileAsync);
    }

    private async Task ReconcileAsync()
    {
        try
        {
            await _gate.WaitAsync(_closed.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            Volatile.Write(ref _reconcileScheduled, 0);
            var connection = Volatile.Read(ref _connection);
            if (connection is not null) await ReconcileCoreAsync(connection, _closed.Token);
        }
        catch (Exception ex) when (ex is ProxyDisconnectedException or OperationCanceledException)
        {
            // The reconnect resyncs everything.
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Brings the upstream in line with the union: upgrades and downgrades first, then drops, then order updates. Caller holds the gate.</summary>
    private async Task ReconcileCoreAsync(ProxyConnection connection, CancellationToken cancellationToken)
    {
        List<(SymbolKey Key, int Wanted, int Upstream)> differences;
        bool ordersWanted;
        lock (_state)
        {
            differences = _union.Differences().Where(d => !_refused.Contains((d.Key, d.Wanted))).ToList();
            ordersWanted = _orderHolders.Count > 0;
        }

        // Subscribe at the wanted mode (one request per mode and depth), then drop the mode it replaces.
        var replaced = new List<(SymbolKey Key, int Mode)>();
        foreach (var group in differences.Where(d => d.Wanted > 0).GroupBy(d => (d.Wanted, Depth: d.Wanted == 3 ? DepthOf(d.Key) : "5")))
        {
            var items = group.ToList();
            for (int i = 0; i < items.Count; i += SymbolsPerRequest)
            {
                var chunk = items.Skip(i).Take(SymbolsPerRequest).ToList();
                PyValue depth;
                lock (_state) depth = group.Key.Wanted == 3 ? _union.DepthFor(chunk[0].Key) : new PyInt(5);
                var reply = await connection.RequestAsync(SubscribeRequest(chunk.Select(c => c.Key).ToList(), group.Key.Wanted, depth), RequestTimeout, cancellationToken);
                var result = new ProxySubscribeResult();
                if (reply.Dict?.Get("type") is PyStr { Value: "subscribe" }) ReadEntries(reply, result);
                else
                {
                    Log.ResubscribeFailed(_logger, Fingerprint, System.Text.Encoding.UTF8.GetString(reply.Raw));
                    continue;
                }
                lock (_state)
                {
                    foreach (var (key, wanted, upstream) in chunk)
                    {
                        if (result.Refused.TryGetValue(key, out var refusal))
                        {
                            _refused.Add((key, wanted));
                            Log.SymbolRefused(_logger, Fingerprint, key.ToString(), wanted, (refusal.Get("message") as PyStr)?.Value ?? "refused");
                            continue;
                        }
                        int current = _union.Upstream(key);
                        _union.SetUpstream(key, wanted);
                        if (current > 0 && current != wanted) replaced.Add((key, current));
                    }
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
            lock (_state)
            {
                foreach (var (key, mode) in replaced)
                {
                    if (_union.Wanted(key) == 0 && _union.Upstream(key) == mode) _union.SetUpstream(key, 0);
                }
            }
        }

        bool ordersUpstream;
        lock (_state) ordersUpstream = _ordersUpstream;
        if (ordersWanted != ordersUpstream)
        {
            await connection.RequestAsync(new PyDict().Set("action", ordersWanted ? "subscribe_orders" : "unsubscribe_orders"), RequestTimeout, cancellationToken);
            lock (_state) _ordersUpstream = ordersWanted;
        }
    }

    private string DepthOf(SymbolKey key)
    {
        lock (_state) return _union.DepthFor(key).Repr();
    }

    private async Task UnsubscribeAsync(ProxyConnection connection, List<(SymbolKey Key, int Mode)> items, CancellationToken cancellationToken)
    {
        for (int i = 0; i < items.Count; i += SymbolsPerRequest)
        {
            var symbols = new PyList();
            foreach (var (key, mode) in items.Skip(i).Take(SymbolsPerRequest))
            {
                // List form: OpenAlgo reads each entry's own mode (§4.6).
                symbols.Items.Add(new PyDict().Set("symbol", key.Symbol).Set("exchange", key.Exchange).Set("mode", mode));
            }
            await connection.RequestAsync(new PyDict().Set("action", "unsubscribe").Set("symbols", symbols), RequestTimeout, cancellationToken);
        }
    }

    private void OnPushed(ProxyConnection connection, ReadOnlyMemory<byte> raw, PyDict? message)
    {
        if (message is null)
        {
            if (ProxyTick.TryRead(raw.Span, out string symbol, out string exchange, out int tickMode, out Range data))
            {
                Volatile.Write(ref _lastTickAt, Environment.TickCount64);
                _hub.Publish(new SymbolKey(exchange, symbol, Scope), tickMode, raw.Span[data]);
                return;
            }
            try
            {
                message = PyJsonReader.Parse(raw.Span) as PyDict;
            }
            catch (PyJsonException)
            {
                return;
            }
            if (message is null) return;
        }
        if (message.Get("type") is PyStr { Value: "order_update" })
        {
            var targets = Volatile.Read(ref _orderSnapshot);
            if (targets.Length == 0) return;
            // Relayed as received: OpenAlgo already wrote it in json.dumps form.
            byte[] frame = WebSocketFrames.Text(raw.Span);
            foreach (var client in targets) client.Outbox.EnqueueControl(frame);
            return;
        }
        if (message.Get("symbol") is not PyStr symbolValue || message.Get("exchange") is not PyStr exchangeValue
            || message.Get("mode") is not PyInt { IsSmall: true, Value: >= 1 and <= 3 } mode || message.Get("data") is not { } dataValue)
        {
            return;
        }
        // The slow path (NaN and the like): re-serialized the way json.dumps writes it.
        Volatile.Write(ref _lastTickAt, Environment.TickCount64);
        _data.ResetWrittenCount();
        PyJsonWriter.WriteValue(_data, dataValue);
        _hub.Publish(new SymbolKey(exchangeValue.Value, symbolValue.Value, Scope), (int)mode.Value, _data.WrittenSpan);
    }

    private static void ReadEntries(ProxyReply reply, ProxySubscribeResult result)
    {
        if (reply.Dict?.Get("subscriptions") is not PyList entries) return;
        foreach (var item in entries.Items)
        {
            if (item is not PyDict entry || entry.Get("symbol") is not { } symbol || entry.Get("exchange") is not { } exchange) continue;
            var key = new SymbolKey(exchange.Str(), symbol.Str());
            if (entry.Get("status") is PyStr { Value: "success" }) result.Accepted.TryAdd(key, entry);
            else result.Refused.TryAdd(key, entry);
        }
    }

    private PyDict AuthenticateRequest() => new PyDict().Set("action", "authenticate").Set("api_key", _apiKey);

    private static PyDict SubscribeRequest(IReadOnlyList<SymbolKey> keys, int mode, PyValue depth)
    {
        var symbols = new PyList();
        foreach (var key in keys) symbols.Items.Add(new PyDict().Set("symbol", key.Symbol).Set("exchange", key.Exchange));
        return new PyDict().Set("action", "subscribe").Set("symbols", symbols).Set("mode", mode).Set("depth", depth);
    }

    private async Task<ProxyConnection?> WaitConnectedAsync(CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)ConnectWait.TotalMilliseconds;
        while (true)
        {
            var attempt = Volatile.Read(ref _attempt).Task;
            var connection = Volatile.Read(ref _connection);
            if (connection is not null) return connection;
            long left = deadline - Environment.TickCount64;
            if (left <= 0 || _closed.IsCancellationRequested) return null;
            try
            {
                // Each connection attempt (they back off from 0.5 s) decides anew until the deadline.
                await attempt.WaitAsync(TimeSpan.FromMilliseconds(left), cancellationToken);
            }
            catch (TimeoutException)
            {
                return Volatile.Read(ref _connection);
            }
        }
    }

    private void SignalAttempt()
    {
        var previous = Interlocked.Exchange(ref _attempt, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    /// <summary>
    /// 0.25 s, 0.5 s, then every second, ±20 % jitter so sessions do not reconnect in step. OpenAlgo's
    /// proxy is on loopback: an attempt costs a refused connect, and every second of waiting after it
    /// is back is a second of missing ticks (a 5 s cap measured gaps up to 9 s in the soak).
    /// </summary>
    private static TimeSpan Backoff(int failures)
    {
        double seconds = Math.Min(1, 0.25 * Math.Pow(2, Math.Min(failures, 10)));
        return TimeSpan.FromSeconds(seconds * (0.8 + Random.Shared.NextDouble() * 0.4));
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try { await Task.Delay(delay, token); } catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested) return;
        _closed.Cancel();
        try { await _running; } catch (Exception ex) when (ex is OperationCanceledException) { }
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null) await connection.DisposeAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(1401, LogLevel.Information, "OpenAlgo proxy session {KeyFingerprint} connected to {Uri}")]
        public static partial void Connected(ILogger logger, string keyFingerprint, Uri uri);

        [LoggerMessage(1402, LogLevel.Warning, "OpenAlgo proxy session {KeyFingerprint} lost its connection ({Reason}); clients stay connected, reconnecting")]
        public static partial void Lost(ILogger logger, string keyFingerprint, string reason);

        [LoggerMessage(1403, LogLevel.Warning, "OpenAlgo proxy session {KeyFingerprint} cannot reach OpenAlgo's proxy at {Uri}: {Reason} (attempt {Attempt}; retrying every second). Is it running with WEBSOCKET_PORT matching MarketData:OpenAlgoUpstreamUrl?")]
        public static partial void ConnectFailed(ILogger logger, string keyFingerprint, Uri uri, string reason, int attempt);

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
