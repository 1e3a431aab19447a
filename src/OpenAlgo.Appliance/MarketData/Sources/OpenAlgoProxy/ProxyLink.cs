using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>Why a fresh connection could not be put into service.</summary>
internal enum LinkSetupProblem
{
    /// <summary>OpenAlgo refused the key: asking again a second later will not change that.</summary>
    KeyRefused,
    ConnectionLost,
}

/// <summary>
/// Keeps one key session's connection to OpenAlgo's proxy up: connects, lets the session put each
/// new connection into service (authenticate, resubscribe) before anyone uses it, watches it with a
/// beat every second, and when it drops reconnects with backoff while the local clients stay
/// connected. Its only synchronisation is the published <see cref="Current"/> connection and a
/// signal per connection attempt that <see cref="WaitConnectedAsync"/> waits on.
/// </summary>
internal sealed partial class ProxyLink : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RefusedRetry = TimeSpan.FromSeconds(30);
    /// <summary>How often the watch wakes at most: the beat the watchdog sees, and the resolution of the session's pulse.</summary>
    public static readonly TimeSpan BeatInterval = TimeSpan.FromSeconds(1);

    private readonly Uri _uri;
    private readonly string _fingerprint;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<ProxyConnection, ReadOnlyMemory<byte>, PyDict?> _pushed;
    private readonly CancellationTokenSource _closed = new();
    private ProxyConnection? _connection;
    private TaskCompletionSource _attempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _running = Task.CompletedTask;
    private long _lastBeat;
    private TimeSpan _beat = BeatInterval;
    private long _seenDispatches;
    private long _seenSince;

    private readonly Observability.Trace.UpstreamTrace? _trace;

    public ProxyLink(Uri uri, string fingerprint, TimeProvider time, ILogger logger, Action<ProxyConnection, ReadOnlyMemory<byte>, PyDict?> pushed,
        Observability.Trace.UpstreamTrace? trace = null)
    {
        _trace = trace;
        _uri = uri;
        _fingerprint = fingerprint;
        _time = time;
        _logger = logger;
        _pushed = pushed;
        _lastBeat = time.GetTimestamp();
    }

    /// <summary>The connection in service, or null while (re)connecting.</summary>
    public ProxyConnection? Current => Volatile.Read(ref _connection);

    /// <summary>Why the last attempt failed or the last connection ended, for error replies.</summary>
    public string LastProblem { get; set; } = "not connected yet";

    public CancellationToken Closed => _closed.Token;

    /// <summary>Connected, lost, refused: one line for systemd's STATUS.</summary>
    public event Action<string>? StateChanged;

    /// <summary>
    /// The watchdog's view (asked by one caller, periodically). False when the loop died or has not
    /// beaten for <paramref name="loopLimit"/> — every wait in it is bounded (connect 10 s, backoff at
    /// most 30 s, requests 30 s each), so only a wedge stays silent that long — or when the receive
    /// loop has been inside one message for <paramref name="dispatchLimit"/>: handing a tick to the
    /// hub takes microseconds, so that is a fan-out stuck on a lock.
    /// </summary>
    public bool IsAlive(TimeSpan loopLimit, TimeSpan dispatchLimit)
    {
        if (_closed.IsCancellationRequested) return true;
        if (_running.IsCompleted || _time.GetElapsedTime(Volatile.Read(ref _lastBeat)) >= loopLimit) return false;
        long dispatches = Current?.Dispatches ?? 0;
        long now = _time.GetTimestamp();
        if (dispatches != _seenDispatches || (dispatches & 1) == 0)
        {
            _seenDispatches = dispatches;
            _seenSince = now;
            return true;
        }
        return _time.GetElapsedTime(_seenSince, now) < dispatchLimit;
    }

    /// <summary>
    /// Starts the loop. <paramref name="prepare"/> puts a new connection into service (null when it
    /// may be used); <paramref name="connected"/> and <paramref name="lost"/> follow each connection's
    /// life; <paramref name="pulse"/> runs every <paramref name="beat"/> (at most <see cref="BeatInterval"/>) while connected.
    /// </summary>
    public void Start(
        Func<ProxyConnection, CancellationToken, Task<LinkSetupProblem?>> prepare,
        Action connected,
        Action lost,
        Func<ProxyConnection, CancellationToken, Task> pulse,
        TimeSpan beat)
    {
        _beat = beat > TimeSpan.Zero && beat < BeatInterval ? beat : BeatInterval;
        _running = Task.Run(() => RunAsync(prepare, connected, lost, pulse));
        _running.ContinueWith(t => Log.LoopFailed(_logger, _fingerprint, t.Exception!.GetBaseException()), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private async Task RunAsync(
        Func<ProxyConnection, CancellationToken, Task<LinkSetupProblem?>> prepare,
        Action connected,
        Action lost,
        Func<ProxyConnection, CancellationToken, Task> pulse)
    {
        int failures = 0;
        var token = _closed.Token;
        while (!token.IsCancellationRequested)
        {
            Beat();
            ProxyConnection connection;
            try
            {
                connection = await ProxyConnection.ConnectAsync(_uri, _pushed, ConnectTimeout, _time, token, _trace);
            }
            catch (Exception ex) when (!token.IsCancellationRequested && ex is System.Net.WebSockets.WebSocketException or IOException or OperationCanceledException or HttpRequestException)
            {
                LastProblem = ex.InnerException?.Message ?? ex.Message;
                // The first failure of an outage, then one line a minute: retries come every second.
                if (failures % 60 == 0) Log.ConnectFailed(_logger, _fingerprint, _uri, LastProblem, failures + 1);
                SignalAttempt();
                await DelayAsync(Backoff(failures++), token);
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (await prepare(connection, token) is { } problem)
            {
                await connection.DisposeAsync();
                SignalAttempt();
                // A refused key will not be accepted a second later: ask again every 30 s, not every second.
                await DelayAsync(problem == LinkSetupProblem.KeyRefused ? RefusedRetry : Backoff(failures++), token);
                continue;
            }
            failures = 0;
            Volatile.Write(ref _connection, connection);
            SignalAttempt();
            Log.Connected(_logger, _fingerprint, _uri);
            StateChanged?.Invoke($"proxy session {_fingerprint} connected");
            connected();

            await WatchAsync(connection, pulse, token);
            Volatile.Write(ref _connection, null);
            lost();
            LastProblem = connection.CloseReason;
            await connection.DisposeAsync();
            if (token.IsCancellationRequested) break;
            Log.Lost(_logger, _fingerprint, LastProblem);
            StateChanged?.Invoke($"proxy session {_fingerprint} lost ({LastProblem}), reconnecting");
            await DelayAsync(Backoff(0), token);
        }
        SignalAttempt();
    }

    /// <summary>Waits for the connection to end, beating every second and letting the session look at it.</summary>
    private async Task WatchAsync(ProxyConnection connection, Func<ProxyConnection, CancellationToken, Task> pulse, CancellationToken token)
    {
        try
        {
            while (!connection.Completion.IsCompleted)
            {
                await Task.WhenAny(connection.Completion, Task.Delay(_beat, _time, token));
                token.ThrowIfCancellationRequested();
                Beat();
                if (connection.Completion.IsCompleted) break;
                await pulse(connection, token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The connection in service, waiting up to <paramref name="wait"/> for one while (re)connecting:
    /// each connection attempt (they back off from 0.25 s) decides anew until the deadline.
    /// </summary>
    public async Task<ProxyConnection?> WaitConnectedAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        while (true)
        {
            var attempt = Volatile.Read(ref _attempt).Task;
            var connection = Current;
            if (connection is not null) return connection;
            var left = wait - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || _closed.IsCancellationRequested) return null;
            try
            {
                await attempt.WaitAsync(left, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                return Current;
            }
        }
    }

    private void Beat() => Volatile.Write(ref _lastBeat, _time.GetTimestamp());

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

    private async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try { await Task.Delay(delay, _time, token); } catch (OperationCanceledException) { }
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

        [LoggerMessage(1409, LogLevel.Critical, "OpenAlgo proxy session {KeyFingerprint}: its connection loop failed; the watchdog will restart the service")]
        public static partial void LoopFailed(ILogger logger, string keyFingerprint, Exception exception);
    }
}
