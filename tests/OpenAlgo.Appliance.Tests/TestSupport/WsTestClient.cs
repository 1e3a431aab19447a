using System.Net.WebSockets;
using System.Text;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>A real WebSocket client (System.Net.WebSockets) that hands back each server message as its exact text.</summary>
internal sealed class WsTestClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[4 << 20];
    private readonly System.Threading.Channels.Channel<string?> _messages = System.Threading.Channels.Channel.CreateUnbounded<string?>();
    private Task? _pump;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;
    public string? CloseDescription => _socket.CloseStatusDescription;
    public WebSocketState State => _socket.State;

    /// <summary>The server's <c>Sec-WebSocket-Extensions</c> answer ("" when none).</summary>
    public string Extensions => _socket.HttpResponseHeaders?.TryGetValue("Sec-WebSocket-Extensions", out var values) == true ? string.Join(", ", values) : "";

    /// <param name="deflate">Offer permessage-deflate with these parameters (null: no offer, like the OpenAlgo SDK).</param>
    public static async Task<WsTestClient> ConnectAsync(Uri uri, WebSocketDeflateOptions? deflate = null)
    {
        var client = new WsTestClient();
        client._socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        client._socket.Options.DangerousDeflateOptions = deflate;
        client._socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client._socket.ConnectAsync(uri, cts.Token);
        return client;
    }

    /// <summary>Over <paramref name="invoker"/>'s connections (for example <see cref="LoopbackNames"/>: a host name dialled on 127.0.0.1).</summary>
    public static async Task<WsTestClient> ConnectAsync(Uri uri, HttpMessageInvoker invoker)
    {
        var client = new WsTestClient();
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client._socket.ConnectAsync(uri, invoker, cts.Token);
        return client;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] data, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _socket.SendAsync(data, type, endOfMessage: true, cts.Token);
    }

    /// <summary>Sends and returns the next message.</summary>
    public async Task<string> AskAsync(string text)
    {
        await SendAsync(text);
        return await ReceiveAsync();
    }

    /// <summary>The next text message, exactly; throws on close or timeout.</summary>
    public async Task<string> ReceiveAsync(TimeSpan? timeout = null)
    {
        var result = await ReceiveMessageAsync(timeout ?? TimeSpan.FromSeconds(10));
        if (result is null) throw new InvalidOperationException($"closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
        return result;
    }

    /// <summary>
    /// The next <paramref name="count"/> messages equal to <paramref name="text"/> are late copies
    /// of one already received and are skipped whenever they arrive: a warm-up publish retried on a
    /// loaded machine can deliver its earlier attempts after the test has moved on.
    /// </summary>
    public void SkipLateCopies(string text, int count)
    {
        lock (_messages)
        {
            _skipText = text;
            _skipCount = count;
        }
    }

    private string? _skipText;
    private int _skipCount;

    /// <summary>Null when the server closed; <see cref="TimeoutException"/> when nothing came.</summary>
    public async Task<string?> ReceiveMessageAsync(TimeSpan timeout)
    {
        // A cancelled ClientWebSocket.ReceiveAsync aborts the socket, so one pump reads and the
        // callers wait on its channel with their own timeouts.
        _pump ??= Task.Run(PumpAsync);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                string? message = await _messages.Reader.ReadAsync(cts.Token);
                lock (_messages)
                {
                    if (_skipCount > 0 && message is not null && message == _skipText)
                    {
                        _skipCount--;
                        continue;
                    }
                }
                return message;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no message within {timeout}");
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            return null;
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                int count = 0;
                while (true)
                {
                    var result = await _socket.ReceiveAsync(new ArraySegment<byte>(_buffer, count, _buffer.Length - count), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        _messages.Writer.TryWrite(null);
                        return;
                    }
                    count += result.Count;
                    if (result.EndOfMessage) break;
                }
                _messages.Writer.TryWrite(Encoding.UTF8.GetString(_buffer, 0, count));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            _messages.Writer.TryWrite(null);
        }
    }

    /// <summary>Asserts that nothing arrives within <paramref name="window"/>.</summary>
    public async Task AssertSilentAsync(TimeSpan window)
    {
        try
        {
            var message = await ReceiveMessageAsync(window);
            Assert.Fail($"expected silence, got: {message}");
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Waits for the server's close frame; returns its code and reason.</summary>
    public async Task<(int Code, string Reason)> ReceiveCloseAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            string? message = await ReceiveMessageAsync(deadline - DateTime.UtcNow);
            if (message is null) return ((int)_socket.CloseStatus!.Value, _socket.CloseStatusDescription ?? "");
        }
        throw new TimeoutException("no close frame");
    }

    public async Task AuthenticateAsync(string key = "testkey")
    {
        string reply = await AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{key}\"}}");
        Assert.Contains("\"status\": \"success\"", reply);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        _socket.Dispose();
    }
}
