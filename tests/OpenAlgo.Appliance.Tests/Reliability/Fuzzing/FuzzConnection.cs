using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OpenAlgo.Appliance.Fuzzing;

/// <summary>
/// One fuzzing connection: the opening handshake (offering permessage-deflate now and then), an
/// authenticate most of the time, then cases from the generator until one ends the connection or
/// the budget is spent. After each case it reads exactly what the server owes — every reply is
/// checked to be a valid protocol reply or a spec error envelope (byte-exact shape, known code),
/// every Pong to carry its Ping's payload, every violation to end in a close frame with the RFC's
/// code followed by the server dropping the TCP connection. Anything else is a failure in the tally.
/// </summary>
internal sealed class FuzzConnection
{
    private static readonly byte[] ErrorPrefix = "{\"status\": \"error\", \"code\": \""u8.ToArray();

    private readonly Stream _stream;
    private readonly FrameReader _reader;
    private readonly FuzzTally _tally;
    private readonly string _where;
    private readonly TimeSpan _answerTimeout;
    private bool _authenticated;

    private FuzzConnection(Stream stream, FuzzTally tally, string where, TimeSpan answerTimeout)
    {
        _stream = stream;
        _reader = new FrameReader(stream);
        _tally = tally;
        _where = where;
        _answerTimeout = answerTimeout;
    }

    /// <summary>Runs one connection on <paramref name="stream"/> (already connected; TLS done) and disposes it.</summary>
    public static async Task RunAsync(Stream stream, string host, string path, FrameGenerator generator, Random random, FuzzTally tally, int maxCases, TimeSpan answerTimeout, string where)
    {
        await using var _ = stream;
        var connection = new FuzzConnection(stream, tally, where, answerTimeout);
        bool? deflate = await connection.HandshakeAsync(host, path, offerDeflate: random.Next(3) == 0);
        if (deflate is null) return;
        tally.Connected();
        var cases = new List<FuzzCase>();
        if (random.Next(100) < 85) cases.Add(generator.Authenticate());
        for (int i = 0; i < maxCases; i++)
        {
            var next = i < cases.Count ? cases[i] : generator.Next(connection._authenticated, deflate.Value);
            if (!await connection.RunCaseAsync(next)) return;
        }
        // Leave politely: a close the server must echo.
        await connection.RunCaseAsync(new FuzzCase { Kind = "client-close", Bytes = generator.Frame(0x88, [0x03, 0xE8]), Frames = 1, CloseCodes = [1000] });
    }

    private async Task<bool?> HandshakeAsync(string host, string path, bool offerDeflate)
    {
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        string extension = offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "";
        string request = $"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n";
        try
        {
            using var cts = new CancellationTokenSource(_answerTimeout);
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
            string head = await _reader.ReadHeadAsync(cts.Token);
            if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                _tally.HandshakeFailed($"{_where}: {head.Split('\r')[0]}");
                return null;
            }
            string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            if (!head.Contains($"Sec-WebSocket-Accept: {accept}", StringComparison.OrdinalIgnoreCase))
            {
                _tally.HandshakeFailed($"{_where}: wrong Sec-WebSocket-Accept in {head}");
                return null;
            }
            return head.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException)
        {
            _tally.HandshakeFailed($"{_where}: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }

    /// <summary>Sends one case and checks the answer; false when the connection is over.</summary>
    private async Task<bool> RunCaseAsync(FuzzCase c)
    {
        _tally.Sent(c);
        long sentAt = Stopwatch.GetTimestamp();
        try
        {
            using var writeTimeout = new CancellationTokenSource(_answerTimeout);
            await _stream.WriteAsync(c.Bytes, writeTimeout.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The server may close on a violation's header while the rest is still being written.
            if (c.EndsConnection) return false;
            _tally.Fail($"{_where} {c.Kind}: write failed: {ex.Message}");
            return false;
        }
        if (c.Hangup) return false;

        int repliesLeft = c.Replies;
        int pongIndex = 0;
        while (repliesLeft > 0 || pongIndex < c.Pongs.Count || (c.CloseCodes is not null && !c.CloseOrReply))
        {
            ServerFrame? frame;
            try
            {
                using var cts = new CancellationTokenSource(_answerTimeout);
                frame = await _reader.ReadFrameAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _tally.Fail($"{_where} {c.Kind}: no answer within {_answerTimeout.TotalSeconds:0} s (replies owed {repliesLeft}, pongs owed {c.Pongs.Count - pongIndex}){Hex(c)}");
                return false;
            }
            catch (IOException ex)
            {
                if (c.EndsConnection || c.CloseOrReply) return false; // reset right after the close frame
                _tally.Fail($"{_where} {c.Kind}: connection failed: {ex.Message}{Hex(c)}");
                return false;
            }
            if (frame is null)
            {
                _tally.Fail($"{_where} {c.Kind}: connection dropped without a close frame{Hex(c)}");
                return false;
            }
            var f = frame.Value;
            switch (f.Opcode)
            {
                case 0x1 or 0x2:
                    if ((f.First & 0x40) != 0) continue; // a compressed tick: not this case's business
                    if (IsMarketData(f.Payload)) continue;
                    if (repliesLeft == 0)
                    {
                        _tally.Fail($"{_where} {c.Kind}: unexpected message {Text(f.Payload)}{Hex(c)}");
                        return false;
                    }
                    repliesLeft--;
                    if (!CheckReply(c, f.Payload, Stopwatch.GetElapsedTime(sentAt))) return false;
                    if (c.CloseOrReply) return true;
                    continue;
                case 0x9:
                    await _stream.WriteAsync(Pong(f.Payload));
                    continue;
                case 0xA:
                    if (pongIndex >= c.Pongs.Count || !f.Payload.AsSpan().SequenceEqual(c.Pongs[pongIndex]))
                    {
                        _tally.Fail($"{_where} {c.Kind}: unexpected Pong payload {Convert.ToHexString(f.Payload)}");
                        return false;
                    }
                    pongIndex++;
                    _tally.Pong();
                    continue;
                case 0x8:
                    int code = f.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(f.Payload) : 1005;
                    _tally.Closed(code);
                    bool expected = c.CloseCodes?.Contains(code) == true && repliesLeft == (c.CloseOrReply ? 1 : 0)
                        || code == 4401 && !_authenticated;
                    if (!expected)
                    {
                        _tally.Fail($"{_where} {c.Kind}: closed with {code} '{Text(f.Payload.AsSpan(Math.Min(2, f.Payload.Length)).ToArray())}', expected {(c.CloseCodes is null ? "no close" : string.Join("/", c.CloseCodes))}{Hex(c)}");
                    }
                    await FinishCloseAsync(code);
                    return false;
                default:
                    _tally.Fail($"{_where} {c.Kind}: server sent opcode {f.Opcode}");
                    return false;
            }
        }
        return !c.EndsConnection;
    }

    private bool CheckReply(FuzzCase c, byte[] payload, TimeSpan took)
    {
        string text = Text(payload);
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(WithoutNonFinite(payload), new JsonDocumentOptions { MaxDepth = 1024 });
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            _tally.Fail($"{_where} {c.Kind}: reply is not JSON ({ex.Message}): {Trim(text)}");
            return false;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            _tally.Fail($"{_where} {c.Kind}: reply is not an object: {Trim(text)}");
            return false;
        }
        if (root.TryGetProperty("code", out var codeElement))
        {
            // Spec §4.3: exactly {"status": "error", "code": …, "message": …}, in that order, json.dumps spacing.
            var names = root.EnumerateObject().Select(p => p.Name).ToArray();
            string code = codeElement.ValueKind == JsonValueKind.String ? codeElement.GetString()! : "?";
            if (!payload.AsSpan().StartsWith(ErrorPrefix) || names is not ["status", "code", "message"] || !FuzzCodes.Known.Contains(code)
                || root.GetProperty("message").ValueKind != JsonValueKind.String)
            {
                _tally.Fail($"{_where} {c.Kind}: not a spec error envelope: {Trim(text)}");
                return false;
            }
            if (c.ReplyCodes is not null && !c.ReplyCodes.Contains(code) && code != "RATE_LIMITED" && !(c.Authenticates && code == "LIMIT_EXCEEDED"))
            {
                _tally.Fail($"{_where} {c.Kind}: error {code}, expected {string.Join("/", c.ReplyCodes)}: {Trim(text)}{Hex(c)}");
                return false;
            }
            if (c.FailsAuthentication && took > TimeSpan.FromMilliseconds(500)) _tally.DelayedRefusal();
            _tally.Reply(code);
            return true;
        }
        string? type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type is null || !FuzzCodes.ReplyTypes.Contains(type) || !root.TryGetProperty("status", out _))
        {
            _tally.Fail($"{_where} {c.Kind}: neither a reply nor an error: {Trim(text)}");
            return false;
        }
        if (c.FailsAuthentication || c.ErrorOnly)
        {
            _tally.Fail($"{_where} {c.Kind}: expected an error, got {Trim(text)}{Hex(c)}");
            return false;
        }
        if (c.Authenticates)
        {
            if (type != "auth" || root.GetProperty("status").GetString() != "success")
            {
                _tally.Fail($"{_where} {c.Kind}: the valid key did not authenticate: {Trim(text)}");
                return false;
            }
            _authenticated = true;
        }
        _tally.Reply(type);
        return true;
    }

    /// <summary>Answers the server's close and expects it to drop the TCP connection.</summary>
    private async Task FinishCloseAsync(int code)
    {
        try
        {
            byte[] payload = code is 1005 or 1006 ? [] : [(byte)(code >> 8), (byte)code];
            await _stream.WriteAsync(MaskedFrame(0x88, payload));
            using var cts = new CancellationTokenSource(_answerTimeout);
            while (await _reader.ReadFrameAsync(cts.Token) is not null)
            {
            }
        }
        catch (OperationCanceledException)
        {
            _tally.Fail($"{_where}: the server kept the connection open after its close frame");
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// json.dumps writes NaN, Infinity and -Infinity bare (spec §4.2) and the hub echoes them; JSON
    /// parsers refuse them, so they become 0 (outside strings) before the structure is checked.
    /// </summary>
    private static byte[] WithoutNonFinite(byte[] payload)
    {
        var copy = (byte[])payload.Clone();
        bool inString = false;
        for (int i = 0; i < copy.Length; i++)
        {
            byte b = copy[i];
            if (inString)
            {
                if (b == (byte)'\\') i++;
                else if (b == (byte)'"') inString = false;
                continue;
            }
            if (b == (byte)'"') inString = true;
            else if (Blank(copy, i, "-Infinity"u8) || Blank(copy, i, "Infinity"u8) || Blank(copy, i, "NaN"u8)) { }
        }
        return copy;

        static bool Blank(byte[] data, int at, ReadOnlySpan<byte> token)
        {
            if (!data.AsSpan(at).StartsWith(token)) return false;
            data[at] = (byte)'0';
            data.AsSpan(at + 1, token.Length - 1).Fill((byte)' ');
            return true;
        }
    }

    private static bool IsMarketData(byte[] payload) => payload.AsSpan().StartsWith("{\"type\": \"market_data\""u8) || payload.AsSpan().StartsWith("{\"type\": \"order_update\""u8);

    private static byte[] Pong(byte[] payload) => MaskedFrame(0x8A, payload);

    private static byte[] MaskedFrame(int first, byte[] payload)
    {
        var frame = new byte[6 + payload.Length];
        frame[0] = (byte)first;
        frame[1] = (byte)(0x80 | payload.Length);
        RandomNumberGenerator.Fill(frame.AsSpan(2, 4));
        for (int i = 0; i < payload.Length; i++) frame[6 + i] = (byte)(payload[i] ^ frame[2 + (i & 3)]);
        return frame;
    }

    private static string Text(byte[] payload) => Encoding.UTF8.GetString(payload);

    private static string Trim(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private static string Hex(FuzzCase c) => $" [case bytes {Convert.ToHexString(c.Bytes.AsSpan(0, Math.Min(c.Bytes.Length, 48)))}{(c.Bytes.Length > 48 ? "…" : "")}, {c.Bytes.Length} B]";
}

/// <summary>A server frame: first byte (FIN, RSV, opcode) and the payload (servers do not mask).</summary>
internal readonly record struct ServerFrame(byte First, byte[] Payload)
{
    public int Opcode => First & 0x0F;
}

/// <summary>Buffered reader for an HTTP response head followed by server frames.</summary>
internal sealed class FrameReader(Stream stream)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public async Task<string> ReadHeadAsync(CancellationToken ct)
    {
        while (true)
        {
            int at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (at >= 0)
            {
                string head = Encoding.ASCII.GetString(_buffer, _start, at + 4);
                _start += at + 4;
                return head;
            }
            if (!await FillAsync(ct)) throw new EndOfStreamException("closed before the response head ended");
        }
    }

    /// <summary>The next frame, or null at the end of the stream.</summary>
    public async Task<ServerFrame?> ReadFrameAsync(CancellationToken ct)
    {
        if (!await EnsureAsync(2, ct)) return null;
        byte first = _buffer[_start];
        int len7 = _buffer[_start + 1] & 0x7F;
        int header = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
        if (!await EnsureAsync(header, ct)) return null;
        long length = len7 == 126 ? BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2))
            : len7 == 127 ? (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2))
            : len7;
        if (length > 64 << 20) throw new IOException($"server frame of {length} bytes");
        if (!await EnsureAsync(header + (int)length, ct)) return null;
        byte[] payload = _buffer.AsSpan(_start + header, (int)length).ToArray();
        _start += header + (int)length;
        return new ServerFrame(first, payload);
    }

    private async Task<bool> EnsureAsync(int count, CancellationToken ct)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(ct)) return false;
        }
        return true;
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start > 0 && _start == _end)
        {
            _start = _end = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
        }
        int n = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
        if (n == 0) return false;
        _end += n;
        return true;
    }
}
