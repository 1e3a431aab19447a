using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace OpenAlgo.Appliance.Bench;

/// <summary>
/// Benchmark clock: Stopwatch ticks (CLOCK_MONOTONIC on Linux) relative to the harness start,
/// so the numbers embedded in ticks stay small and exact whatever the server does with them.
/// The feeder and the clients live in the same process, so they share the epoch.
/// </summary>
public static class Clock
{
    private static readonly long Epoch = Stopwatch.GetTimestamp();
    private static readonly long TicksPerMicrosecond = Stopwatch.Frequency % 1_000_000 == 0 ? Stopwatch.Frequency / 1_000_000 : 0;
    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    public static long Now => Stopwatch.GetTimestamp() - Epoch;

    public static long ToMicroseconds(long ticks) =>
        TicksPerMicrosecond > 0 ? ticks / TicksPerMicrosecond : (long)(ticks * MicrosecondsPerTick);

    public static long FromSeconds(double seconds) => (long)(seconds * Stopwatch.Frequency);

    public static double ToSeconds(long ticks) => ticks / (double)Stopwatch.Frequency;
}

/// <summary>The measured window, in <see cref="Clock"/> ticks; ticks are classified by their bench_ts.</summary>
public static class Window
{
    private static long _t0 = long.MaxValue;
    private static long _t1 = long.MaxValue;

    public static long T0 => Volatile.Read(ref _t0);

    public static long T1 => Volatile.Read(ref _t1);

    public static void Set(long t0, long t1)
    {
        Volatile.Write(ref _t1, t1);
        Volatile.Write(ref _t0, t0);
    }
}

/// <summary>
/// Opens client WebSockets. "raw" (default): WebSocket.CreateFromStream over a read-buffered
/// socket/TLS stream (see <see cref="RawWebSocket"/>). "clientws": System.Net.WebSockets.ClientWebSocket
/// through one shared SocketsHttpHandler. Both accept the self-signed certificate and use no proxy.
/// </summary>
public sealed class ClientFactory : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly bool _raw;
    private readonly int _readBufferSize;
    private readonly bool _deflate;

    public ClientFactory(bool raw, int readBufferSize, bool deflate = false)
    {
        _raw = raw;
        _readBufferSize = readBufferSize;
        _deflate = deflate;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            MaxConnectionsPerServer = int.MaxValue,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        _invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <param name="dialHost">The address to connect to when it is not <paramref name="uri"/>'s host (a site's name on this machine); raw clients only.</param>
    public async Task ConnectAsync(BenchClient client, Uri uri, string dialHost, CancellationToken ct)
    {
        if (_raw)
        {
            client.Attach(await RawWebSocket.ConnectAsync(uri, _readBufferSize, _deflate, ct, dialHost).ConfigureAwait(false));
            return;
        }
        if (dialHost != uri.Host)
        {
            throw new UsageException("--client clientws cannot dial a site's name (--sites over wss): use --client raw");
        }
        var ws = new ClientWebSocket();
        client.Attach(ws);
        ws.Options.KeepAliveInterval = TimeSpan.Zero;
        if (_deflate) ws.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        ws.Options.HttpVersion = HttpVersion.Version11;
        ws.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        await ws.ConnectAsync(uri, _invoker, ct).ConfigureAwait(false);
    }

    public void Dispose() => _invoker.Dispose();
}

/// <summary>
/// One WebSocket client. Setup (authenticate/subscribe) may allocate; the receive loop does not:
/// one reusable buffer, "bench_ts" found by byte search, latency into a preallocated histogram.
/// Counters are written only by the receive loop and read racily for progress.
/// </summary>
public sealed class BenchClient(int index, int bufferSize, LatencyHistogram? histogram)
{
    private static ReadOnlySpan<byte> BenchTsKey => "\"bench_ts\""u8;

    private readonly byte[] _buffer = new byte[bufferSize];
    private volatile bool _stopping;

    private WebSocket? _socket;

    public WebSocket Socket => _socket ?? throw new InvalidOperationException("not connected");

    public void Attach(WebSocket socket) => _socket = socket;

    public int Index { get; } = index;

    public int[] Symbols { get; set; } = [];

    /// <summary>A slow consumer: sleeps this long after every frame it reads (0: reads as fast as it can).</summary>
    public double PauseMilliseconds { get; init; }

    public long Received;      // every frame received by the loop
    public long PreWindow;     // data frames with bench_ts before the window (probe, warm-up)
    public long InWindow;      // data frames with bench_ts inside the window
    public long PostWindow;    // data frames with bench_ts after the window (should stay 0)
    public long Other;         // frames without a bench_ts (errors, notices, ...)
    public long Oversize;      // frames larger than the receive buffer (not parsed)
    public long FloatTimestamps; // bench_ts came back as a float (server changed the number)
    public long LastTimestamp = -1; // bench_ts of the newest data frame read: how old what this client sees is

    public string? FirstOther { get; private set; }

    /// <summary>Optional: in-window latencies also go to the histogram of the phase their bench_ts falls in.</summary>
    public PhaseClock? Phases { get; set; }

    public string? FirstData { get; private set; }

    public string? CloseStatus { get; private set; }

    public string? Error { get; private set; }

    public bool LoopEnded { get; private set; }

    public Task? Loop { get; private set; }

    public async Task SendTextAsync(string text, CancellationToken ct)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        await Socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct).ConfigureAwait(false);
    }

    /// <summary>Receives one whole text message (setup path only; allocates).</summary>
    public async Task<string> ReceiveTextAsync(CancellationToken ct)
    {
        using var ms = new MemoryStream();
        while (true)
        {
            ValueWebSocketReceiveResult r = await Socket.ReceiveAsync(_buffer.AsMemory(), ct).ConfigureAwait(false);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"server closed the connection: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            }
            ms.Write(_buffer, 0, r.Count);
            if (r.EndOfMessage)
            {
                return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
            }
        }
    }

    public async Task AuthenticateAsync(string apiKey, CancellationToken ct)
    {
        string msg = "{\"action\": \"authenticate\", \"api_key\": " + JsonSerializerString(apiKey) + "}";
        await SendTextAsync(msg, ct).ConfigureAwait(false);
        string reply = await ReceiveTextAsync(ct).ConfigureAwait(false);
        using var doc = ParseOrThrow(reply, "auth");
        var root = doc.RootElement;
        if (!(Str(root, "status") == "success" && (Str(root, "type") is null or "auth")))
        {
            throw new InvalidOperationException($"authentication failed: {Truncate(reply)}");
        }
    }

    public async Task SubscribeAsync(IReadOnlyList<string> symbols, string exchange, int mode, int depth, int batch, CancellationToken ct)
    {
        for (int start = 0; start < symbols.Count; start += batch)
        {
            var sb = new StringBuilder("{\"action\": \"subscribe\", \"symbols\": [");
            int end = Math.Min(symbols.Count, start + batch);
            for (int i = start; i < end; i++)
            {
                if (i > start)
                {
                    sb.Append(", ");
                }
                sb.Append("{\"symbol\": ").Append(JsonSerializerString(symbols[i]))
                  .Append(", \"exchange\": ").Append(JsonSerializerString(exchange)).Append('}');
            }
            sb.Append("], \"mode\": ").Append(mode).Append(", \"depth\": ").Append(depth).Append('}');
            await SendTextAsync(sb.ToString(), ct).ConfigureAwait(false);

            // Wait for the subscribe reply, skipping anything else (there should be nothing else yet).
            for (int skipped = 0; ; skipped++)
            {
                string reply = await ReceiveTextAsync(ct).ConfigureAwait(false);
                using var doc = ParseOrThrow(reply, "subscribe");
                var root = doc.RootElement;
                string? type = Str(root, "type");
                string? status = Str(root, "status");
                if (type == "error" || status == "error")
                {
                    throw new InvalidOperationException($"subscribe failed: {Truncate(reply)}");
                }
                if (type == "subscribe" || (type is null && status is not null))
                {
                    if (status != "success")
                    {
                        throw new InvalidOperationException($"subscribe failed: {Truncate(reply)}");
                    }
                    break;
                }
                if (skipped > 100)
                {
                    throw new InvalidOperationException($"no subscribe reply; last message: {Truncate(reply)}");
                }
            }
        }
    }

    /// <summary>Starts the allocation-free receive loop (runs until the socket closes or is aborted).</summary>
    public void StartReceiveLoop() => Loop = ReceiveLoopAsync();

    private async Task ReceiveLoopAsync()
    {
        byte[] buf = _buffer;
        try
        {
            while (true)
            {
                int len = 0;
                bool oversize = false;
                while (true)
                {
                    Memory<byte> target = oversize ? buf.AsMemory() : buf.AsMemory(len);
                    ValueWebSocketReceiveResult r = await Socket.ReceiveAsync(target, CancellationToken.None).ConfigureAwait(false);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        CloseStatus = $"{Socket.CloseStatus} {Socket.CloseStatusDescription}";
                        if (!_stopping)
                        {
                            try
                            {
                                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                            }
                            catch (Exception)
                            {
                                // best effort
                            }
                        }
                        return;
                    }
                    if (!oversize)
                    {
                        len += r.Count;
                        if (len == buf.Length && !r.EndOfMessage)
                        {
                            oversize = true;
                        }
                    }
                    if (r.EndOfMessage)
                    {
                        break;
                    }
                }
                long now = Clock.Now;
                if (oversize)
                {
                    Received++;
                    Oversize++;
                    continue;
                }
                OnMessage(buf.AsSpan(0, len), now);
                if (PauseMilliseconds > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(PauseMilliseconds)).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e)
        {
            if (!_stopping)
            {
                Error = e.GetType().Name + ": " + e.Message;
            }
        }
        finally
        {
            LoopEnded = true;
        }
    }

    /// <summary>Test hook: process one frame as if it had been received at Clock time <paramref name="now"/>.</summary>
    internal void Feed(ReadOnlySpan<byte> frame, long now) => OnMessage(frame, now);

    private void OnMessage(ReadOnlySpan<byte> msg, long now)
    {
        Received++;
        int i = msg.IndexOf(BenchTsKey);
        if (i < 0)
        {
            Other++;
            FirstOther ??= Encoding.UTF8.GetString(msg[..Math.Min(msg.Length, 400)]);
            return;
        }
        ReadOnlySpan<byte> rest = msg[(i + BenchTsKey.Length)..];
        int j = 0;
        while (j < rest.Length && (rest[j] == (byte)' ' || rest[j] == (byte)':'))
        {
            j++;
        }
        rest = rest[j..];
        if (!Utf8Parser.TryParse(rest, out long ts, out int consumed))
        {
            Other++;
            FirstOther ??= Encoding.UTF8.GetString(msg[..Math.Min(msg.Length, 400)]);
            return;
        }
        if (consumed < rest.Length && rest[consumed] is (byte)'.' or (byte)'e' or (byte)'E')
        {
            FloatTimestamps++;
            if (Utf8Parser.TryParse(rest, out double d, out _))
            {
                ts = (long)d;
            }
        }
        FirstData ??= Encoding.UTF8.GetString(msg[..Math.Min(msg.Length, 600)]);
        Volatile.Write(ref LastTimestamp, ts);

        if (ts < Window.T0)
        {
            PreWindow++;
        }
        else if (ts < Window.T1)
        {
            InWindow++;
            histogram?.Record(Clock.ToMicroseconds(now - ts));
            Phases?.Record(ts, Clock.ToMicroseconds(now - ts));
        }
        else
        {
            PostWindow++;
        }
    }

    public async Task CloseAsync(TimeSpan timeout)
    {
        _stopping = true;
        try
        {
            if (_socket is { State: WebSocketState.Open })
            {
                using var cts = new CancellationTokenSource(timeout);
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // best effort
        }
        if (Loop is not null)
        {
            await Task.WhenAny(Loop, Task.Delay(timeout)).ConfigureAwait(false);
        }
        Abort();
    }

    public void Abort()
    {
        _stopping = true;
        if (_socket is null)
        {
            return;
        }
        try
        {
            _socket.Abort();
        }
        catch (Exception)
        {
            // ignore
        }
        _socket.Dispose();
    }

    private static JsonDocument ParseOrThrow(string text, string what)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{what}: reply is not JSON ({e.Message}): {Truncate(text)}");
        }
    }

    private static string? Str(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string JsonSerializerString(string s) => "\"" + JsonEncodedText.Encode(s).ToString() + "\"";

    public static string Truncate(string s, int max = 500) => s.Length <= max ? s : s[..max] + "...";
}
