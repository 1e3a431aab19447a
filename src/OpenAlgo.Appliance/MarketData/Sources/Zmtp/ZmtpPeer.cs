using System.Buffers.Binary;
using System.Net.Sockets;

namespace OpenAlgo.Appliance.MarketData.Sources.Zmtp;

/// <summary>One bus message: the first frame (OpenAlgo's topic) and the second (its payload); further frames are ignored.</summary>
internal delegate void ZmtpMessageHandler(ReadOnlySpan<byte> topic, ReadOnlySpan<byte> payload);

/// <summary>
/// One publisher connected to the bus, spoken to as a ZeroMQ SUB socket (ZMTP 3.0, RFC 23, NULL
/// security — what libzmq, pyzmq and NetMQ publishers use): greeting, READY with
/// <c>Socket-Type</c>, a subscription to every topic, then messages. Frames are parsed in place in
/// one receive buffer: a read of up to 64 KiB is every message that arrived since the last read,
/// handed to the handler without a copy. Not thread-safe: owned by the bus thread.
/// </summary>
internal sealed class ZmtpPeer : IDisposable
{
    /// <summary>Largest message accepted (all its frames); a bigger one closes the connection. Ticks are hundreds of bytes.</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    private const int InitialBuffer = 64 * 1024;
    private const int GreetingLength = 64;
    private const byte FlagMore = 1;
    private const byte FlagLong = 2;
    private const byte FlagCommand = 4;

    /// <summary>ZMTP 3.0 greeting: signature (byte 8 as libzmq sends it), version 3.0, NULL mechanism, not as-server.</summary>
    private static readonly byte[] Greeting = BuildGreeting();

    /// <summary>READY (Socket-Type SUB), then the subscription to every topic as a ZMTP 3.0 message (0x01 + empty prefix).</summary>
    private static readonly byte[] ReadyAndSubscribe =
    [
        FlagCommand, 25, 5, .. "READY"u8, 11, .. "Socket-Type"u8, 0, 0, 0, 3, .. "SUB"u8,
        0, 1, 1,
    ];

    private readonly Socket _socket;
    private byte[] _buffer = new byte[InitialBuffer];
    private int _filled;
    private State _state = State.Greeting;

    public ZmtpPeer(Socket socket)
    {
        _socket = socket;
        Remote = socket.RemoteEndPoint?.ToString() is { Length: > 0 } r ? r : "local socket";
    }

    private enum State
    {
        Greeting,
        Handshake,
        Traffic,
    }

    public Socket Socket => _socket;

    public string Remote { get; }

    /// <summary>The peer's socket type once its READY arrived (PUB or XPUB).</summary>
    public string? SocketType { get; private set; }

    public bool IsReady => _state == State.Traffic;

    /// <summary>Sends our greeting; the rest of the handshake follows the peer's.</summary>
    public bool Start(out string? problem) => TrySend(Greeting, out problem);

    /// <summary>
    /// Reads what arrived and hands every complete message to <paramref name="handler"/>. False when
    /// the connection is over: <paramref name="problem"/> null for an orderly end, else why it was refused.
    /// </summary>
    public bool OnReadable(ZmtpMessageHandler handler, out string? problem)
    {
        problem = null;
        int read = _socket.Receive(_buffer, _filled, _buffer.Length - _filled, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock) return true;
        if (error != SocketError.Success)
        {
            problem = error == SocketError.ConnectionReset ? null : $"receive failed: {error}";
            return false;
        }
        if (read == 0) return false;
        _filled += read;

        int consumed = Process(handler, out int needed, out problem);
        if (consumed < 0) return false;
        int left = _filled - consumed;
        if (consumed > 0 && left > 0) Buffer.BlockCopy(_buffer, consumed, _buffer, 0, left);
        _filled = left;
        if (needed > _buffer.Length)
        {
            // One message longer than the buffer: grow to hold it (bounded by MaxMessageBytes).
            Array.Resize(ref _buffer, (int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)needed), MaxMessageBytes + 64L));
        }
        else if (left == 0 && _buffer.Length > InitialBuffer)
        {
            _buffer = new byte[InitialBuffer]; // a large message came and went: give the memory back
        }
        return true;
    }

    /// <summary>Parses from the buffer's start; returns bytes consumed (-1: protocol error) and the bytes the next incomplete message needs.</summary>
    private int Process(ZmtpMessageHandler handler, out int needed, out string? problem)
    {
        problem = null;
        needed = 0;
        var data = _buffer.AsSpan(0, _filled);
        int pos = 0;
        while (true)
        {
            if (_state == State.Greeting)
            {
                if (!CheckGreeting(data, out problem)) return -1;
                if (data.Length < GreetingLength) return pos;
                pos = GreetingLength;
                if (!TrySend(ReadyAndSubscribe, out problem)) return -1;
                _state = State.Handshake;
                continue;
            }

            // A message: one or more frames, handled only when all of them are here.
            int cursor = pos;
            int topicStart = 0, topicLength = -1, payloadStart = 0, payloadLength = -1;
            bool complete = false;
            while (true)
            {
                if (data.Length - cursor < 2)
                {
                    needed = cursor + 9 - pos;
                    break;
                }
                byte flags = data[cursor];
                if ((flags & ~(FlagMore | FlagLong | FlagCommand)) != 0)
                {
                    problem = $"invalid frame flags 0x{flags:x2}";
                    return -1;
                }
                int header = (flags & FlagLong) != 0 ? 9 : 2;
                if (data.Length - cursor < header)
                {
                    needed = cursor + header - pos;
                    break;
                }
                ulong size = header == 9 ? BinaryPrimitives.ReadUInt64BigEndian(data[(cursor + 1)..]) : data[cursor + 1];
                if (size > (ulong)MaxMessageBytes || cursor - pos + header + (long)size > MaxMessageBytes)
                {
                    problem = $"a message larger than {MaxMessageBytes / (1024 * 1024)} MiB";
                    return -1;
                }
                int start = cursor + header;
                int end = start + (int)size;
                if (end > data.Length)
                {
                    needed = end - pos;
                    break;
                }
                if ((flags & FlagCommand) != 0)
                {
                    if (cursor != pos || (flags & FlagMore) != 0)
                    {
                        problem = "a command inside a message";
                        return -1;
                    }
                    if (!OnCommand(data[start..end], out problem)) return -1;
                    cursor = end;
                    complete = true;
                    break;
                }
                if (_state != State.Traffic)
                {
                    problem = "a message before the handshake completed";
                    return -1;
                }
                if (topicLength < 0)
                {
                    (topicStart, topicLength) = (start, (int)size);
                }
                else if (payloadLength < 0)
                {
                    (payloadStart, payloadLength) = (start, (int)size);
                }
                cursor = end;
                if ((flags & FlagMore) == 0)
                {
                    complete = true;
                    // Single-frame messages are not OpenAlgo's format (topic, payload): skipped, as before.
                    if (payloadLength >= 0) handler(data.Slice(topicStart, topicLength), data.Slice(payloadStart, payloadLength));
                    break;
                }
            }
            if (!complete) return pos;
            pos = cursor;
        }
    }

    /// <summary>Validates as much of the peer's greeting as has arrived (libzmq sends it in parts).</summary>
    private static bool CheckGreeting(ReadOnlySpan<byte> data, out string? problem)
    {
        problem = null;
        if (data.Length >= 1 && data[0] != 0xFF || data.Length >= 10 && (data[9] & 1) == 0)
        {
            problem = "not a ZeroMQ 3.x peer (no ZMTP signature)";
        }
        else if (data.Length >= 11 && data[10] < 3)
        {
            problem = $"ZMTP {data[10]}.x is too old (libzmq 4 or NetMQ 4 speak 3.x)";
        }
        else if (data.Length >= 32 && !(data.Slice(12, 4).SequenceEqual("NULL"u8) && !data[16..32].ContainsAnyExcept((byte)0)))
        {
            problem = $"security mechanism {System.Text.Encoding.ASCII.GetString(data[12..32]).TrimEnd('\0')} (the bus uses none: NULL)";
        }
        return problem is null;
    }

    private bool OnCommand(ReadOnlySpan<byte> body, out string? problem)
    {
        problem = null;
        if (body.Length < 1 || body.Length < 1 + body[0])
        {
            problem = "a malformed command";
            return false;
        }
        var name = body.Slice(1, body[0]);
        var rest = body[(1 + body[0])..];
        if (_state == State.Handshake)
        {
            if (!name.SequenceEqual("READY"u8))
            {
                problem = name.SequenceEqual("ERROR"u8) ? $"the peer refused the handshake: {ErrorReason(rest)}" : "expected READY";
                return false;
            }
            SocketType = Property(rest, "Socket-Type"u8);
            if (SocketType is not ("PUB" or "XPUB"))
            {
                problem = $"a {SocketType ?? "socket without a type"} cannot publish to the bus (PUB or XPUB)";
                return false;
            }
            _state = State.Traffic;
            return true;
        }
        if (name.SequenceEqual("PING"u8))
        {
            // ZMTP 3.1 heartbeat (a peer that negotiated 3.0 should not send it): answer with its context.
            var context = rest.Length > 2 ? rest[2..Math.Min(rest.Length, 18)] : [];
            Span<byte> pong = stackalloc byte[2 + 5 + 16];
            pong[0] = FlagCommand;
            pong[1] = (byte)(5 + context.Length);
            pong[2] = 4;
            "PONG"u8.CopyTo(pong[3..]);
            context.CopyTo(pong[7..]);
            return TrySend(pong[..(7 + context.Length)], out problem);
        }
        if (name.SequenceEqual("ERROR"u8))
        {
            problem = $"the peer reported an error: {ErrorReason(rest)}";
            return false;
        }
        return true; // other commands (PONG, a second READY, …) carry nothing for a subscriber
    }

    private static string ErrorReason(ReadOnlySpan<byte> rest) =>
        rest.Length >= 1 && rest.Length >= 1 + rest[0] ? System.Text.Encoding.ASCII.GetString(rest.Slice(1, rest[0])) : "(no reason)";

    /// <summary>A metadata property of READY (name length, name, 4-byte value length, value), case-insensitive name.</summary>
    private static string? Property(ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> wanted)
    {
        while (metadata.Length >= 1)
        {
            int nameLength = metadata[0];
            if (metadata.Length < 1 + nameLength + 4) return null;
            var name = metadata.Slice(1, nameLength);
            uint valueLength = BinaryPrimitives.ReadUInt32BigEndian(metadata[(1 + nameLength)..]);
            int valueStart = 1 + nameLength + 4;
            if ((ulong)metadata.Length < (ulong)valueStart + valueLength) return null;
            if (System.Text.Ascii.EqualsIgnoreCase(name, wanted))
            {
                return System.Text.Encoding.ASCII.GetString(metadata.Slice(valueStart, (int)valueLength));
            }
            metadata = metadata[(valueStart + (int)valueLength)..];
        }
        return null;
    }

    private bool TrySend(ReadOnlySpan<byte> bytes, out string? problem)
    {
        problem = null;
        // A few dozen bytes on a fresh connection: they fit in the socket's send buffer or the peer is not reading at all.
        int sent = _socket.Send(bytes, SocketFlags.None, out SocketError error);
        if (error == SocketError.Success && sent == bytes.Length) return true;
        problem = $"cannot write the handshake ({error})";
        return false;
    }

    private static byte[] BuildGreeting()
    {
        var greeting = new byte[GreetingLength];
        greeting[0] = 0xFF;
        greeting[8] = 1;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        greeting[11] = 0;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        return greeting;
    }

    public void Dispose() => _socket.Dispose();
}
