using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>A reply from OpenAlgo's proxy: its exact bytes (to relay) and the parsed form (to read).</summary>
internal sealed record ProxyReply(byte[] Raw, PyValue Parsed)
{
    public PyDict? Dict => Parsed as PyDict;
    public string? Type => (Dict?.Get("type") as PyStr)?.Value;
    public string? Status => (Dict?.Get("status") as PyStr)?.Value;
    public string? Code => (Dict?.Get("code") as PyStr)?.Value;

    /// <summary>OpenAlgo's error envelope: <c>status: error</c> and no <c>type</c> (spec §4.3).</summary>
    public bool IsErrorEnvelope => Status == "error" && Type is null;
}

/// <summary>The upstream connection went away before a reply arrived.</summary>
internal sealed class ProxyDisconnectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One WebSocket to OpenAlgo's proxy. OpenAlgo handles a connection's messages strictly in order
/// and answers each exactly once (§4.1, §5.3), so replies are matched to requests first-in,
/// first-out; <c>market_data</c> and <c>order_update</c> are the only unsolicited messages and go
/// to the push callback on the receive loop's thread (ticks unparsed, with a null dict).
/// </summary>
internal sealed class ProxyConnection : IAsyncDisposable
{
    private const int MaxMessageBytes = 16 * 1024 * 1024;

    private readonly ClientWebSocket _socket;
    private readonly ConcurrentQueue<TaskCompletionSource<ProxyReply>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<ProxyConnection, ReadOnlyMemory<byte>, PyDict?> _pushed;
    private readonly TimeProvider _time;
    private readonly Observability.Trace.UpstreamTrace? _trace;
    private Task _receiving = Task.CompletedTask;
    private volatile string? _closeReason;
    private long _dispatches;

    private ProxyConnection(ClientWebSocket socket, Action<ProxyConnection, ReadOnlyMemory<byte>, PyDict?> pushed, TimeProvider time, Observability.Trace.UpstreamTrace? trace)
    {
        _socket = socket;
        _pushed = pushed;
        _time = time;
        _trace = trace;
    }

    /// <summary>Completes when the connection has ended, for whatever reason.</summary>
    public Task Completion => _receiving;

    public string CloseReason => _closeReason ?? "closed";

    /// <summary>
    /// Messages handed on so far, times two, plus one while one is being handed on (written by the
    /// receive loop only). An odd value that does not move means the loop is stuck in the hub.
    /// </summary>
    public long Dispatches => Volatile.Read(ref _dispatches);

    /// <param name="trace">The key session's message trace (requests, replies and order updates; ticks are traced after the fan-out).</param>
    public static async Task<ProxyConnection> ConnectAsync(Uri uri, Action<ProxyConnection, ReadOnlyMemory<byte>, PyDict?> pushed, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken,
        Observability.Trace.UpstreamTrace? trace = null)
    {
        var socket = new ClientWebSocket();
        // Answer OpenAlgo's 20 s pings (automatic) and notice a dead proxy ourselves within 40 s.
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(20);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await socket.ConnectAsync(uri, cts.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new ProxyConnection(socket, pushed, time, trace);
        connection._receiving = Task.Run(connection.ReceiveLoopAsync);
        return connection;
    }

    /// <summary>Sends one request and waits for its reply.</summary>
    public async Task<ProxyReply> RequestAsync(PyDict request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<ProxyReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[] bytes = PyJsonWriter.Serialize(request);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (_receiving.IsCompleted) throw new ProxyDisconnectedException(CloseReason);
            _pending.Enqueue(reply);
            // The loop may have ended between the check and the enqueue: fail what it could not see.
            if (_closeReason is not null) Fail(_closeReason);
            // Traced before it goes: the reply may be read (and traced) before SendAsync returns.
            _trace?.Sent(bytes);
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            Fail($"send failed: {ex.Message}");
            throw new ProxyDisconnectedException(CloseReason, ex);
        }
        finally
        {
            _sendLock.Release();
        }
        try
        {
            return await reply.Task.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // A reply that never comes would shift every later reply onto the wrong request: start over.
            Fail($"no reply within {timeout.TotalSeconds:0} s");
            throw new ProxyDisconnectedException(CloseReason);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    var memory = buffer.GetMemory(4096);
                    result = await _socket.ReceiveAsync(memory, _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        Fail($"proxy closed the connection ({(int?)_socket.CloseStatus} {_socket.CloseStatusDescription})");
                        await AnswerCloseAsync();
                        return;
                    }
                    buffer.Advance(result.Count);
                    if (buffer.WrittenCount > MaxMessageBytes)
                    {
                        Fail("proxy sent a message over 16 MiB");
                        return;
                    }
                }
                while (!result.EndOfMessage);
                Volatile.Write(ref _dispatches, _dispatches + 1);
                Dispatch(buffer.WrittenMemory);
                Volatile.Write(ref _dispatches, _dispatches + 1);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Fail(ex is OperationCanceledException ? "closed" : $"connection lost: {ex.Message}");
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> message)
    {
        // Ticks are most of the traffic: handed on unparsed (the receiver reads them in place).
        if (message.Span.StartsWith(ProxyTick.Prefix))
        {
            _pushed(this, message, null);
            return;
        }
        PyValue parsed;
        try
        {
            parsed = PyJsonReader.Parse(message.Span);
        }
        catch (PyJsonException)
        {
            Fail("proxy sent a message that is not JSON");
            return;
        }
        if (parsed is PyDict dict && dict.Get("type") is PyStr { Value: "market_data" or "order_update" } type)
        {
            if (type.Value == "order_update") _trace?.Received(message.Span, dict);
            _pushed(this, message, dict);
            return;
        }
        _trace?.Received(message.Span, parsed as PyDict);
        if (_pending.TryDequeue(out var waiter)) waiter.TrySetResult(new ProxyReply(message.ToArray(), parsed));
    }

    private void Fail(string reason)
    {
        _closeReason ??= reason;
        try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        while (_pending.TryDequeue(out var waiter)) waiter.TrySetException(new ProxyDisconnectedException(reason));
    }

    /// <summary>Completes the close handshake (RFC 6455 §5.5.1) so the proxy does not wait out its close timeout.</summary>
    private async Task AnswerCloseAsync()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await AnswerCloseAsync();
        Fail("closed");
        try { await _receiving; } catch { }
        _socket.Dispose();
        _stop.Dispose();
    }
}
