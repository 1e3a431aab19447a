using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// <c>MarketData:Source=OpenAlgo</c>: OpenAlgo's own proxy keeps hosting the broker adapters (on
/// 8766) and this source multiplexes local clients onto it — one <see cref="ProxyKeySession"/>
/// per API key, created by the first client that authenticates with the key and closed when the
/// last one leaves (so OpenAlgo tears the broker adapter down exactly as it would have). It is its
/// own <see cref="ISubscriptionGateway"/>: OpenAlgo's proxy judges every key and subscription.
/// </summary>
internal sealed partial class OpenAlgoProxySource : IMarketDataSource, ISubscriptionGateway, IAsyncDisposable
{
    private static readonly TimeSpan PulseInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan QuestionTimeout = TimeSpan.FromSeconds(5);

    private readonly Uri _uri;
    private readonly MarketDataHub _hub;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ProxyKeySession> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, ProxyKeySession> _byScope = new();
    private readonly ConcurrentDictionary<long, ProxyKeySession> _attached = new();
    private readonly TtlCache<ProxyAuthResult> _refused;
    private readonly TtlCache<byte[]> _brokerList;
    private readonly SemaphoreSlim _newKeyChecks;
    private readonly CancellationTokenSource _stopping = new();
    private Task _pulse = Task.CompletedTask;
    private long _progress;
    private string? _stalled;
    private int _nextScope;
    private bool _stopped;

    /// <summary>
    /// OpenAlgo checks an unknown key with Argon2 against every stored key on its event loop
    /// (≈ 0.1–0.3 s during which its proxy serves nobody). Keys it has not accepted yet are therefore
    /// sent at most this many at a time; known keys never wait.
    /// </summary>
    public int MaxNewKeyChecks { get; }

    /// <summary>Silence after which a session checks that OpenAlgo still has the user's broker adapter.</summary>
    public TimeSpan AdapterCheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a new key waits for its turn before the client is told to try again.</summary>
    public TimeSpan NewKeyWait { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// A key session whose connection loop has not beaten for this long is wedged (every wait in it
    /// is bounded: connect 10 s, backoff at most 30 s, a resync of requests at 30 s each): the source
    /// stops showing progress, so the watchdog restarts the service.
    /// </summary>
    public TimeSpan LoopStallLimit { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>A receive loop inside one message this long is stuck in the fan-out (it takes microseconds).</summary>
    public TimeSpan DispatchStallLimit { get; init; } = TimeSpan.FromSeconds(10);

    public OpenAlgoProxySource(Uri uri, MarketDataHub hub, ILoggerFactory loggers, TimeProvider? time = null, int maxNewKeyChecks = 2)
    {
        _time = time ?? TimeProvider.System;
        MaxNewKeyChecks = maxNewKeyChecks;
        _newKeyChecks = new SemaphoreSlim(maxNewKeyChecks, maxNewKeyChecks);
        // OpenAlgo's own invalid_api_key_cache (512 keys, 5 min): a refused key is answered from here
        // instead of opening an upstream connection per attempt.
        _refused = new TtlCache<ProxyAuthResult>(512, TimeSpan.FromSeconds(300), _time);
        _brokerList = new TtlCache<byte[]>(1, TimeSpan.FromSeconds(300), _time);
        _uri = uri;
        _hub = hub;
        _loggers = loggers;
        _logger = loggers.CreateLogger<OpenAlgoProxySource>();
        hub.Released += OnReleased;
        hub.Unregistered += OnUnregistered;
    }

    public Uri Uri => _uri;

    public string Name => "OpenAlgo proxy sessions";

    /// <summary>Advances four times a second while no key session is wedged.</summary>
    public long Progress => Interlocked.Read(ref _progress);

    public string? Status => $"OpenAlgo proxy {_uri}: {ConnectedCount} of {SessionCount} key sessions connected";

    /// <summary>A session connected, was lost or was refused (for systemd's STATUS).</summary>
    public event Action<string>? Changed;

    public ISubscriptionGateway? Gateway => this;

    /// <summary>Sessions whose upstream connection is up right now.</summary>
    public int ConnectedCount
    {
        get { lock (_gate) return _byKey.Values.Count(s => s.IsConnected); }
    }

    /// <summary>Open upstream sessions (one per API key in use).</summary>
    public int SessionCount
    {
        get { lock (_gate) return _byKey.Count; }
    }

    public ProxyKeySession? SessionOf(ClientSession client) => _attached.GetValueOrDefault(client.Id);

    public async ValueTask<KeyVerdict> AuthenticateAsync(string apiKey, CancellationToken cancellationToken)
    {
        var (result, session) = await AuthenticateKeyAsync(apiKey, cancellationToken);
        if (session is null)
        {
            return result.Outcome == ProxyAuthOutcome.Unavailable
                ? new KeyVerdict(KeyVerdictKind.Unavailable, Message: result.Message) { CloseUnauthenticated = true }
                : new KeyVerdict(KeyVerdictKind.Invalid, Message: result.Message, Reply: result.Reply);
        }
        var kind = result.Outcome == ProxyAuthOutcome.Success ? KeyVerdictKind.Valid : KeyVerdictKind.ValidWithoutBroker;
        return new KeyVerdict(kind, result.UserId, result.Broker, result.Message, result.Reply) { Scope = session.Scope, Hold = session };
    }

    /// <summary>
    /// Authenticates <paramref name="apiKey"/> upstream. When accepted, the returned session is held
    /// for the caller, who must either <see cref="Attach"/> a client to it or <see cref="Let"/> it go.
    /// </summary>
    private async Task<(ProxyAuthResult Result, ProxyKeySession? Session)> AuthenticateKeyAsync(string apiKey, CancellationToken cancellationToken)
    {
        string id = Digest(apiKey);
        if (_refused.TryGet(id, out var refused)) return (refused, null);
        var session = Hold(apiKey);
        if (session is null) return (ProxyAuthResult.Unavailable(_uri, "shutting down"), null);
        ProxyAuthResult result;
        bool newKey = !session.EverAccepted;
        try
        {
            if (newKey && !await _newKeyChecks.WaitAsync(NewKeyWait, cancellationToken))
            {
                Let(session);
                return (ProxyAuthResult.Busy(_uri), null);
            }
            try
            {
                result = await session.AuthenticateAsync(cancellationToken);
            }
            finally
            {
                if (newKey) _newKeyChecks.Release();
            }
        }
        catch
        {
            Let(session);
            throw;
        }
        if (result.Accepted) return (result, session);
        Let(session);
        if (result.Outcome == ProxyAuthOutcome.Rejected && result.Message == "Invalid API key") _refused.Set(id, result);
        return (result, null);
    }

    /// <summary>
    /// Makes the verdict's session (already held for this client) the client's upstream; a standing
    /// order subscription moves with it. When the client moves from another session, the caller has
    /// already released what it held there (those subscriptions were routed under the old scope).
    /// </summary>
    public void Attach(ClientSession client, KeyVerdict verdict)
    {
        var session = (ProxyKeySession)verdict.Hold!;
        ProxyKeySession? previous = null;
        _attached.AddOrUpdate(client.Id, session, (_, old) => { previous = old; return session; });
        if (ReferenceEquals(previous, session))
        {
            Let(session); // already held once for this client
        }
        else if (previous is not null)
        {
            if (client.OrdersSubscribed) previous.SetOrders(client, false);
            Let(previous);
        }
        client.Scope = session.Scope;
        if (client.OrdersSubscribed) session.SetOrders(client, true);
    }

    public void Decline(KeyVerdict verdict) => Let((ProxyKeySession)verdict.Hold!);

    public bool ConfirmsSubscriptions => true;

    public async ValueTask<SubscriptionConfirmation> ConfirmAsync(ClientSession client, IReadOnlyList<SymbolKey> keys, int mode, PyValue depth, CancellationToken cancellationToken)
    {
        if (SessionOf(client) is not { } session)
        {
            var envelope = new PyDict().Set("status", "error").Set("code", ProtocolErrors.BrokerError).Set("message", ProtocolErrors.AdapterNotFound);
            return new SubscriptionConfirmation { Envelope = PyJsonWriter.Serialize(envelope) };
        }
        return await session.SubscribeAsync(keys, mode, depth, cancellationToken);
    }

    public void SetOrders(ClientSession client, bool subscribed) => SessionOf(client)?.SetOrders(client, subscribed);

    public async ValueTask<byte[]?> BrokerInfoAsync(ClientSession client, CancellationToken cancellationToken) =>
        SessionOf(client) is { } session ? await session.ForwardAsync(ProxyRequests.BrokerInfo(), cancellationToken) : null;

    /// <summary>
    /// OpenAlgo's <c>get_supported_brokers</c> reply (its <c>VALID_BROKERS</c>), asked on a short
    /// connection of its own — the question needs no key — and kept five minutes; null when OpenAlgo's proxy is down.
    /// </summary>
    public async ValueTask<byte[]?> SupportedBrokersAsync(CancellationToken cancellationToken)
    {
        if (_brokerList.TryGet("", out var cached)) return cached;
        try
        {
            await using var connection = await ProxyConnection.ConnectAsync(_uri, static (_, _, _) => { }, QuestionTimeout, _time, cancellationToken);
            var reply = await connection.RequestAsync(new PyDict().Set("action", "get_supported_brokers"), QuestionTimeout, cancellationToken);
            if (reply.Type == "supported_brokers") _brokerList.Set("", reply.Raw);
            return reply.Raw;
        }
        catch (Exception ex) when (ex is ProxyDisconnectedException or System.Net.WebSockets.WebSocketException or IOException or OperationCanceledException or HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Gives back a hold taken by <see cref="AuthenticateAsync"/> or <see cref="Attach"/>.</summary>
    public void Let(ProxyKeySession session)
    {
        bool close;
        lock (_gate)
        {
            close = --session.Holders == 0;
            if (close)
            {
                _byKey.Remove(session.KeyId);
                _byScope.TryRemove(session.Scope, out _);
            }
        }
        if (close) _ = session.DisposeAsync().AsTask();
    }

    private ProxyKeySession? Hold(string apiKey)
    {
        string id = Digest(apiKey);
        lock (_gate)
        {
            if (_stopped) return null;
            if (_byKey.TryGetValue(id, out var existing))
            {
                existing.Holders++;
                return existing;
            }
            ProxyKeySession? created = null;
            var session = created = new ProxyKeySession(++_nextScope, apiKey, _uri, _hub, _time, _loggers.CreateLogger<ProxyKeySession>(), () => ClientsOf(created!))
            {
                Holders = 1,
                KeyId = id,
                AdapterCheckInterval = AdapterCheckInterval,
            };
            _byKey[id] = session;
            _byScope[session.Scope] = session;
            session.StateChanged += message => Changed?.Invoke(message);
            session.Start();
            return session;
        }
    }

    /// <summary>The local clients attached to <paramref name="session"/> (the message trace's filters ask; not a hot path).</summary>
    private IEnumerable<ClientSession> ClientsOf(ProxyKeySession session) =>
        _hub.Sessions.Where(client => _attached.TryGetValue(client.Id, out var attached) && ReferenceEquals(attached, session));

    private static string Digest(string apiKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    private void OnReleased(ClientSession client, SymbolKey key, byte modes)
    {
        if (key.Scope != 0 && _byScope.TryGetValue(key.Scope, out var session)) session.Release(key.Unscoped, modes);
    }

    private void OnUnregistered(ClientSession client)
    {
        if (!_attached.TryRemove(client.Id, out var session)) return;
        session.SetOrders(client, false);
        Let(session);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _pulse = PulseAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    /// <summary>The watchdog's view of the sessions: progress while every one of them is alive.</summary>
    private async Task PulseAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(PulseInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                ProxyKeySession[] sessions;
                lock (_gate) sessions = [.. _byKey.Values];
                ProxyKeySession? wedged = null;
                foreach (var session in sessions)
                {
                    if (!session.IsAlive(LoopStallLimit, DispatchStallLimit)) wedged ??= session;
                }
                if (wedged is null)
                {
                    _stalled = null;
                    Interlocked.Increment(ref _progress);
                }
                else if (_stalled != wedged.Fingerprint)
                {
                    _stalled = wedged.Fingerprint;
                    Log.Wedged(_logger, wedged.Fingerprint);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        ProxyKeySession[] sessions;
        lock (_gate)
        {
            _stopped = true;
            sessions = [.. _byKey.Values];
            _byKey.Clear();
            _byScope.Clear();
        }
        _stopping.Cancel();
        await _pulse;
        await Task.WhenAll(sessions.Select(s => s.DisposeAsync().AsTask()));
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private static partial class Log
    {
        [LoggerMessage(1410, LogLevel.Critical, "OpenAlgo proxy session {KeyFingerprint} is stuck (its connection loop or a delivery to clients does not move); the watchdog restarts the service if this persists")]
        public static partial void Wedged(ILogger logger, string keyFingerprint);
    }
}
