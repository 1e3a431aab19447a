using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// A deliberately minimal client on a bare TCP socket, for what well-behaved clients never do:
/// ignore Pings, stop reading, send unmasked or malformed frames.
/// </summary>
internal sealed class RawWebSocket : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>The server's answer to the opening handshake (status line and headers).</summary>
    public string HandshakeResponse { get; private set; } = "";

    /// <param name="extraHeaders">Request header lines, each ending in CRLF (e.g. an extension offer).</param>
    public static async Task<RawWebSocket> ConnectAsync(int port, int receiveBuffer = 0, string extraHeaders = "")
    {
        var ws = await OpenAsync(port, receiveBuffer, extraHeaders);
        Assert.StartsWith("HTTP/1.1 101", ws.HandshakeResponse);
        return ws;
    }

    /// <summary>Sends the opening handshake and reads the answer, whatever it is (see <see cref="HandshakeResponse"/>).</summary>
    public static async Task<RawWebSocket> OpenAsync(int port, int receiveBuffer = 0, string extraHeaders = "")
    {
        var tcp = new TcpClient();
        if (receiveBuffer > 0) tcp.ReceiveBufferSize = receiveBuffer;
        await tcp.ConnectAsync("127.0.0.1", port);
        return await HandshakeAsync(new RawWebSocket(tcp), port, extraHeaders);
    }

    /// <summary>The opening handshake (which must succeed) on a socket already connected, e.g. from another local address.</summary>
    public static async Task<RawWebSocket> OpenOnAsync(Socket connected, int port)
    {
        var ws = await HandshakeAsync(new RawWebSocket(new TcpClient { Client = connected }), port, "");
        Assert.StartsWith("HTTP/1.1 101", ws.HandshakeResponse);
        return ws;
    }

    private static async Task<RawWebSocket> HandshakeAsync(RawWebSocket ws, int port, string extraHeaders)
    {
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        string request = $"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n";
        await ws._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        ws.HandshakeResponse = await ws.ReadHttpHeadAsync();
        return ws;
    }

    /// <summary>Reads what follows the response head until the server closes (an error answer's body).</summary>
    public async Task<string> ReadToEndAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var body = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await _stream.ReadAsync(buffer, cts.Token)) > 0) body.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    private async Task<string> ReadHttpHeadAsync()
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await _stream.ReadAsync(one) == 0) break;
            head.Add(one[0]);
        }
        return Encoding.ASCII.GetString(head.ToArray());
    }

    public Task SendTextAsync(string text) => SendFrameAsync(0x1, Encoding.UTF8.GetBytes(text));

    /// <summary>Writes bytes as they are (pre-built frames, floods).</summary>
    public ValueTask SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) => _stream.WriteAsync(bytes, cancellationToken);

    /// <summary>A masked client frame, built once to be sent many times.</summary>
    public static byte[] BuildFrame(byte first, byte[] payload)
    {
        if (payload.Length > 125) throw new ArgumentException("small frames only", nameof(payload));
        var frame = new byte[6 + payload.Length];
        frame[0] = first;
        frame[1] = (byte)(0x80 | payload.Length);
        RandomNumberGenerator.Fill(frame.AsSpan(2, 4));
        for (int i = 0; i < payload.Length; i++) frame[6 + i] = (byte)(payload[i] ^ frame[2 + (i & 3)]);
        return frame;
    }

    public async Task SendFrameAsync(byte opcode, byte[] payload, bool fin = true, bool mask = true, byte rsv = 0)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | rsv | opcode) };
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (payload.Length < 126) frame.Add((byte)(maskBit | payload.Length));
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            var len = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(len, (ulong)payload.Length);
            frame.AddRange(len);
        }
        var key = RandomNumberGenerator.GetBytes(4);
        if (mask) frame.AddRange(key);
        for (int i = 0; i < payload.Length; i++) frame.Add(mask ? (byte)(payload[i] ^ key[i & 3]) : payload[i]);
        await _stream.WriteAsync(frame.ToArray());
    }

    /// <summary>Reads one server frame: (opcode, payload). Null on EOF.</summary>
    public async Task<(byte Opcode, byte[] Payload)?> ReadFrameAsync(TimeSpan timeout) =>
        await ReadFrameWithFlagsAsync(timeout) is { } frame ? ((byte)(frame.First & 0x0F), frame.Payload) : null;

    /// <summary>Reads one server frame: its first byte (FIN, RSV1–3, opcode) and payload. Null on EOF.</summary>
    public async Task<(byte First, byte[] Payload)?> ReadFrameWithFlagsAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var header = new byte[2];
        if (!await ReadExactlyAsync(header, cts.Token)) return null;
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await ReadExactlyAsync(ext, cts.Token);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await ReadExactlyAsync(ext, cts.Token);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }
        var payload = new byte[length];
        await ReadExactlyAsync(payload, cts.Token);
        return (header[0], payload);
    }

    /// <summary>Reads frames until a close frame; returns its code and reason (ignores Pings).</summary>
    public async Task<(int Code, string Reason)> ReadCloseAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var frame = await ReadFrameAsync(deadline - DateTime.UtcNow);
            if (frame is null) throw new EndOfStreamException("connection closed without a close frame");
            if (frame.Value.Opcode == 0x8)
            {
                var p = frame.Value.Payload;
                return (p.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(p) : 1005, Encoding.UTF8.GetString(p.AsSpan(Math.Min(2, p.Length))));
            }
        }
        throw new TimeoutException("no close frame");
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    public void Dispose() => _tcp.Dispose();
}
