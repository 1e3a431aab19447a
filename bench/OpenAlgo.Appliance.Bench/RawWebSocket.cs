using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace OpenAlgo.Appliance.Bench;

/// <summary>
/// Client WebSocket built from System.Net.WebSockets.WebSocket.CreateFromStream (the same managed
/// implementation ClientWebSocket uses after its handshake) over a read-buffered stream.
/// Why: ManagedWebSocket reads a frame header into a 125-byte buffer and then the rest of the
/// payload, i.e. two socket reads per small message over plain TCP. Putting a 64 KB read buffer
/// underneath turns a burst of N messages into one recv, which keeps the load generator's CPU per
/// message well below the server's. The handshake is a minimal RFC 6455 client handshake.
/// </summary>
public static class RawWebSocket
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <param name="deflate">Offer permessage-deflate as browsers do (<c>permessage-deflate; client_max_window_bits</c>).</param>
    /// <param name="dialHost">Where to connect when it is not <paramref name="uri"/>'s host: the name still goes in SNI and Host.</param>
    /// <param name="bind">The local address to connect from (loopback addresses other than 127.0.0.1 multiply the ephemeral ports); null: the kernel's choice.</param>
    /// <param name="resetOnClose">Closing the socket sends RST, not FIN: no TIME_WAIT left behind (connect storms).</param>
    public static async Task<WebSocket> ConnectAsync(Uri uri, int readBufferSize, bool deflate, CancellationToken ct, string? dialHost = null, System.Net.IPAddress? bind = null, bool resetOnClose = false)
    {
        bool tls = uri.Scheme == "wss";
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            if (resetOnClose)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            if (bind is not null)
            {
                socket.Bind(new System.Net.IPEndPoint(bind, 0));
            }
            await socket.ConnectAsync(dialHost ?? uri.Host, uri.Port, ct).ConfigureAwait(false);
            stream = new CountingStream(new NetworkStream(socket, ownsSocket: true));
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = uri.IdnHost,
                        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    },
                    ct).ConfigureAwait(false);
            }
            var buffered = new ReadBufferedStream(stream, readBufferSize);
            stream = buffered;

            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            string request =
                $"GET {uri.PathAndQuery} HTTP/1.1\r\n" +
                $"Host: {uri.Authority}\r\n" +
                "Upgrade: websocket\r\n" +
                "Connection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\n" +
                (deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "") +
                "Sec-WebSocket-Version: 13\r\n\r\n";
            await buffered.WriteAsync(Encoding.ASCII.GetBytes(request), ct).ConfigureAwait(false);

            string head = await ReadHeadAsync(buffered, ct).ConfigureAwait(false);
            string[] lines = head.Split("\r\n");
            string[] status = lines[0].Split(' ', 3);
            if (status.Length < 2 || status[1] != "101")
            {
                throw new WebSocketException($"handshake refused: {lines[0]}");
            }
            string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));
            string? accept = lines.Skip(1)
                .Select(l => l.Split(':', 2))
                .Where(p => p.Length == 2 && p[0].Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
                .Select(p => p[1].Trim())
                .FirstOrDefault();
            if (accept != expected)
            {
                throw new WebSocketException($"handshake: bad Sec-WebSocket-Accept '{accept}'");
            }
            string? extensions = lines.Skip(1)
                .Select(l => l.Split(':', 2))
                .Where(p => p.Length == 2 && p[0].Trim().Equals("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase))
                .Select(p => p[1].Trim())
                .FirstOrDefault();
            WebSocketDeflateOptions? agreed = null;
            if (extensions is not null)
            {
                if (!deflate || !extensions.StartsWith("permessage-deflate", StringComparison.Ordinal))
                {
                    throw new WebSocketException($"handshake: unexpected Sec-WebSocket-Extensions '{extensions}'");
                }
                agreed = new WebSocketDeflateOptions
                {
                    ServerContextTakeover = !extensions.Contains("server_no_context_takeover", StringComparison.Ordinal),
                    ClientContextTakeover = !extensions.Contains("client_no_context_takeover", StringComparison.Ordinal),
                };
            }
            buffered.CountFrames = true;
            return WebSocket.CreateFromStream(buffered, new WebSocketCreationOptions
            {
                IsServer = false,
                KeepAliveInterval = TimeSpan.Zero,
                DangerousDeflateOptions = agreed,
            });
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }
            throw;
        }
    }

    private static async Task<string> ReadHeadAsync(ReadBufferedStream s, CancellationToken ct)
    {
        var sb = new StringBuilder();
        int state = 0; // matched bytes of "\r\n\r\n"
        while (state < 4)
        {
            int b = await s.ReadByteAsync(ct).ConfigureAwait(false);
            if (b < 0)
            {
                throw new WebSocketException("connection closed during handshake");
            }
            sb.Append((char)b);
            state = (b, state) switch
            {
                ('\r', 0 or 2) => state + 1,
                ('\n', 1 or 3) => state + 1,
                ('\r', _) => 1,
                _ => 0,
            };
            if (sb.Length > 16384)
            {
                throw new WebSocketException("handshake response too large");
            }
        }
        return sb.ToString(0, sb.Length - 4);
    }
}

/// <summary>
/// Bytes received by every raw client, for bytes per message: at the TCP level (TLS records
/// included on wss) and at the WebSocket level (frames, after TLS). Added once per read.
/// </summary>
public static class WireCounters
{
    public static long TcpBytes;
    public static long WebSocketBytes;
}

/// <summary>Counts what is read from the socket into <see cref="WireCounters.TcpBytes"/>.</summary>
public sealed class CountingStream(Stream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref WireCounters.TcpBytes, n);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = inner.Read(buffer, offset, count);
        Interlocked.Add(ref WireCounters.TcpBytes, n);
        return n;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => inner.WriteAsync(source, cancellationToken);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Read-buffered, write-through stream wrapper (BufferedStream would also buffer writes).</summary>
public sealed class ReadBufferedStream(Stream inner, int bufferSize) : Stream
{
    private readonly byte[] _buffer = new byte[bufferSize];
    private int _pos;
    private int _len;

    /// <summary>After the handshake: count WebSocket bytes read into <see cref="WireCounters.WebSocketBytes"/>.</summary>
    public bool CountFrames { get; set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public async ValueTask<int> ReadByteAsync(CancellationToken ct)
    {
        if (_pos == _len)
        {
            _pos = 0;
            _len = await inner.ReadAsync(_buffer.AsMemory(), ct).ConfigureAwait(false);
            if (_len == 0)
            {
                return -1;
            }
        }
        return _buffer[_pos++];
    }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_pos < _len)
        {
            return new ValueTask<int>(CopyOut(destination.Span));
        }
        if (destination.Length >= _buffer.Length)
        {
            return ReadDirectAsync(destination, cancellationToken);
        }
        return FillAndCopyAsync(destination, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadDirectAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int n = await inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        if (CountFrames) Interlocked.Add(ref WireCounters.WebSocketBytes, n);
        return n;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> FillAndCopyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        _pos = 0;
        _len = await inner.ReadAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        if (CountFrames) Interlocked.Add(ref WireCounters.WebSocketBytes, _len);
        return _len == 0 ? 0 : CopyOut(destination.Span);
    }

    private int CopyOut(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _len - _pos);
        _buffer.AsSpan(_pos, n).CopyTo(destination);
        _pos += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(source, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
