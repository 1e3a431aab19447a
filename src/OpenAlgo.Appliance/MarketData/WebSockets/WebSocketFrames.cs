using System.Buffers.Binary;
using System.Text;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>
/// Builds complete server-to-client frames (RFC 6455 §5.2). Server frames are never masked, so a
/// frame depends only on its payload: a tick's frame is built once and the same bytes go to every
/// recipient.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// </code>
/// </summary>
internal static class WebSocketFrames
{
    public const byte OpContinuation = 0x0;
    public const byte OpText = 0x1;
    public const byte OpBinary = 0x2;
    public const byte OpClose = 0x8;
    public const byte OpPing = 0x9;
    public const byte OpPong = 0xA;

    /// <summary>First-byte bit of a message compressed with permessage-deflate (RFC 7692 §6).</summary>
    public const byte Rsv1 = 0x40;

    public static int HeaderLength(int payloadLength) => payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    /// <summary>The header length of a complete unmasked frame (from its length byte).</summary>
    public static int HeaderLengthOf(ReadOnlySpan<byte> frame) => (frame[1] & 0x7F) switch { 126 => 4, 127 => 10, _ => 2 };

    /// <summary>Writes a FIN frame header for <paramref name="payloadLength"/> bytes; returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, byte opcode, int payloadLength)
    {
        destination[0] = (byte)(0x80 | opcode);
        if (payloadLength < 126)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }
        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }
        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }

    public static byte[] Build(byte opcode, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength(payload.Length) + payload.Length];
        int header = WriteHeader(frame, opcode, payload.Length);
        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }

    public static byte[] Text(ReadOnlySpan<byte> utf8Payload) => Build(OpText, utf8Payload);

    /// <summary>A close frame; the reason is cut to fit the 125-byte control-frame limit.</summary>
    public static byte[] Close(int code, string reason)
    {
        Span<byte> payload = stackalloc byte[125];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        int reasonBytes = Encoding.UTF8.GetByteCount(reason) <= 123
            ? Encoding.UTF8.GetBytes(reason, payload[2..])
            : Encoding.UTF8.GetBytes(reason.AsSpan(0, Math.Min(reason.Length, 40)), payload[2..]);
        return Build(OpClose, payload[..(2 + reasonBytes)]);
    }
}
