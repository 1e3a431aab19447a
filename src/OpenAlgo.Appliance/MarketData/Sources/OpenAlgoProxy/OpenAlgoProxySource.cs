using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// <c>MarketData:Source=OpenAlgo</c>: OpenAlgo's own proxy keeps hosting the broker adapters (on
/// 8766) and this registry multiplexes local clients onto it — one <see cref="ProxyKeySession"/>
/// per API key, created by the first client that authenticates with the key and closed when the
/// last one leaves (so OpenAlgo tears the broker adapter down exactly as it would have).
/// </summary>
internal sealed class OpenAlgoProxySource : IHostedService, IAsyncDisposable
{
    private readonly Uri _uri;
    private readonly MarketDataHub _hub;
    private readonly ILoggerFactory _loggers;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ProxyKeySession> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, ProxyKeySession> _byScope = new();
    private readonly ConcurrentDictionary<long, ProxyKeySession> _attached = new();
    private readonly TtlCache<ProxyAuthResult> _refused;
    private readonly TtlCache<byte[]> _brokerList;
    private static readonly TimeSpan QuestionTimeout = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _newKeyChecks;
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

    public OpenAlgoProxySource(Uri uri, MarketDataHub hub, ILoggerFactory loggers, TimeProvider? time = null, int maxNewKeyChecks = 2)
    {
        MaxNewKeyChecks = maxNewKeyChecks;
        _newKeyChecks = new SemaphoreSlim(maxNewKeyChecks, maxNewKeyChecks);
        // OpenAlgo's own invalid_api_key_cache (512 keys, 5 min): a refused key is answered from here
        // instead of opening an upstream connection per attempt.
        _refused = new TtlCache<ProxyAuthResult>(512, TimeSpan.FromSeconds(300), time ?? TimeProvider.System);
        _brokerList = new TtlCache<byte[]>(1, TimeSpan.FromSeconds(300), time ?? TimeProvider.System);
        _uri = uri;
        _hub = hub;
        _loggers = loggers;
        hub.Released += OnReleased;
        hub.Unregistered += OnUnregistered;
    }

    public Uri Uri => _uri;

    /// <summary>A session connected, was lost or was refused (for systemd's STATUS).</summary>
    public event Action<string>? Changed;

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

    /// <summary>
    /// Authenticates <paramref name="apiKey"/> upstream. When accepted, the returned session is held
    /// for the caller, who must either <see cref="Attach"/> a client to it or <see cref="Let"/> it go.
    /// </summary>
    public async Task<(ProxyAuthResult Result, ProxyKeySession? Session)> AuthenticateAsync(string apiKey, CancellationToken cancellationToken)
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
    /// Makes <paramref name="session"/> (already held for this client) the client's upstream. When
    /// the client moves from another session, the caller has already released what it held there
    /// (those subscriptions were routed under the old scope).
    /// </summary>
    public void Attach(ClientSession client, ProxyKeySession session)
    {
        ProxyKeySession? previous = null;
        _attached.AddOrUpdate(client.Id, session, (_, old) => { previous = old; return session; });
        if (ReferenceEquals(previous, session)) Let(session); // already held once for this client
        else if (previous is not null) Let(previous);
        client.Scope = session.Scope;
    }

    /// <summary>
    /// OpenAlgo's <c>get_supported_brokers</c> reply (its <c>VALID_BROKERS</c>), asked on a short
    /// connection of its own — the question needs no key — and kept five minutes; null when OpenAlgo's proxy is down.
    /// </summary>
    public async Task<byte[]?> SupportedBrokersAsync(CancellationToken cancellationToken)
    {
        if (_brokerList.TryGet("", out var cached)) return cached;
        try
        {
            await using var connection = await ProxyConnection.ConnectAsync(_uri, static (_, _, _) => { }, QuestionTimeout, cancellationToken);
            var reply = await connection.RequestAsync(new Protocol.PyDict().Set("action", "get_supported_brokers"), QuestionTimeout, cancellationToken);
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
            var session = new ProxyKeySession(++_nextScope, apiKey, _uri, _hub, _loggers.CreateLogger<ProxyKeySession>()) { Holders = 1, KeyId = id, AdapterCheckInterval = AdapterCheckInterval };
            _byKey[id] = session;
            _byScope[session.Scope] = session;
            session.StateChanged += message => Changed?.Invoke(message);
            session.Start();
            return session;
        }
    }

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

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
        await Task.WhenAll(sessions.Select(s => s.DisposeAsync().AsTask()));
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);
}
