using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using System.Text.Unicode;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>
/// Reads client frames (RFC 6455 §5) from a pipe and assembles messages. Message size is checked
/// against the limit as soon as a frame header arrives, as Python's websockets does, so an
/// oversized message is refused (1009) before its payload is buffered. With permessage-deflate
/// (<paramref name="inflater"/>) a message with RSV1 is inflated when its last frame arrives, and
/// the limit applies again to the inflated size.
/// </summary>
internal sealed class WebSocketReader(PipeReader reader, int maxMessageBytes, MessageInflater? inflater = null)
{
    private byte[] _message = [];
    private int _messageLength;
    private byte _messageOpcode;
    private bool _messageCompressed;
    private bool _inMessage;
    private bool _completed;
    private readonly byte[] _control = new byte[125];

    public async ValueTask<WebSocketEvent> ReadAsync()
    {
        if (_completed)
        {
            // The previous message was handed out; its buffer can go back to the pool.
            ReleaseMessage();
        }
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            WebSocketEvent? ev = null;
            try
            {
                ev = ParseFrames(ref buffer);
            }
            finally
            {
                // With an event in hand only the bytes it used are consumed, and nothing more is
                // marked examined: the next frame may already be in the buffer. Without one,
                // everything was examined and the next read waits for more data.
                if (ev is null) reader.AdvanceTo(buffer.Start, buffer.End);
                else reader.AdvanceTo(buffer.Start);
            }
            if (ev is { } found) return found;
            if (result.IsCanceled) return new WebSocketEvent(WebSocketEventKind.Cancelled, default);
            if (result.IsCompleted) return new WebSocketEvent(WebSocketEventKind.EndOfStream, default);
        }
    }

    public void CancelPendingRead() => reader.CancelPendingRead();

    private WebSocketEvent? ParseFrames(ref ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[14];
        while (true)
        {
            if (buffer.Length < 2) return null;
            int available = (int)Math.Min(buffer.Length, 14);
            buffer.Slice(0, available).CopyTo(head);

            bool fin = (head[0] & 0x80) != 0;
            int rsv = head[0] & 0x70;
            byte opcode = (byte)(head[0] & 0x0F);
            bool masked = (head[1] & 0x80) != 0;
            long length = head[1] & 0x7F;
            int headerLength = 2;
            if (length == 126)
            {
                if (available < 4) return null;
                length = BinaryPrimitives.ReadUInt16BigEndian(head[2..]);
                headerLength = 4;
            }
            else if (length == 127)
            {
                if (available < 10) return null;
                ulong big = BinaryPrimitives.ReadUInt64BigEndian(head[2..]);
                length = big > long.MaxValue ? long.MaxValue : (long)big;
                headerLength = 10;
            }

            bool isControl = opcode >= 0x8;
            // RSV1 marks the first frame of a compressed message, and only when permessage-deflate
            // was agreed (RFC 7692 §6.1); anywhere else any reserved bit is an error.
            bool compressed = rsv == WebSocketFrames.Rsv1 && inflater is not null && !isControl && opcode != WebSocketFrames.OpContinuation;
            if (rsv != 0 && !compressed) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "reserved bits must be 0");
            if (!masked) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "incorrect masking");
            if (isControl)
            {
                if (opcode > WebSocketFrames.OpPong) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, $"invalid opcode: {opcode}");
                if (!fin) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "fragmented control frame");
                if (length > 125) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "control frame too long");
            }
            else
            {
                if (opcode > WebSocketFrames.OpBinary) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, $"invalid opcode: {opcode}");
                if (opcode == WebSocketFrames.OpContinuation && !_inMessage) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "unexpected continuation frame");
                if (opcode != WebSocketFrames.OpContinuation && _inMessage) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "expected a continuation frame");
                long total = _messageLength + length;
                if (total > maxMessageBytes)
                {
                    return WebSocketEvent.Violation(WebSocketCloseCodes.MessageTooBig, $"over size limit ({total} > {maxMessageBytes} bytes)");
                }
            }

            headerLength += 4; // masking key
            if (buffer.Length < headerLength + length) return null;
            if (available < headerLength) return null;
            uint maskKey = BinaryPrimitives.ReadUInt32BigEndian(head[(headerLength - 4)..]);
            var payload = buffer.Slice(headerLength, length);
            buffer = buffer.Slice(headerLength + length);

            if (isControl)
            {
                int n = (int)length;
                payload.CopyTo(_control);
                Unmask(_control.AsSpan(0, n), maskKey, 0);
                var memory = new ReadOnlyMemory<byte>(_control, 0, n);
                switch (opcode)
                {
                    case WebSocketFrames.OpPing:
                        return new WebSocketEvent(WebSocketEventKind.Ping, memory);
                    case WebSocketFrames.OpPong:
                        return new WebSocketEvent(WebSocketEventKind.Pong, memory);
                    default:
                        return ParseClose(memory.Span);
                }
            }

            if (opcode != WebSocketFrames.OpContinuation)
            {
                _messageOpcode = opcode;
                _messageCompressed = compressed;
                _inMessage = true;
                _messageLength = 0;
            }
            int start = _messageLength;
            EnsureMessageCapacity(_messageLength + (int)length);
            payload.CopyTo(_message.AsSpan(start));
            Unmask(_message.AsSpan(start, (int)length), maskKey, 0);
            _messageLength += (int)length;

            if (fin)
            {
                _inMessage = false;
                _completed = true;
                var message = new ReadOnlyMemory<byte>(_message, 0, _messageLength);
                if (_messageCompressed)
                {
                    // Python websockets' wording for both (OpenAlgo's proxy closes the same way).
                    switch (inflater!.Inflate(message, out message))
                    {
                        case InflateStatus.TooBig:
                            return WebSocketEvent.Violation(WebSocketCloseCodes.MessageTooBig, $"over size limit (? > {maxMessageBytes} bytes)");
                        case InflateStatus.Invalid:
                            return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "decompression failed");
                    }
                }
                if (_messageOpcode == WebSocketFrames.OpText)
                {
                    if (!Utf8.IsValid(message.Span)) return WebSocketEvent.Violation(WebSocketCloseCodes.InvalidPayload, "invalid UTF-8");
                    return new WebSocketEvent(WebSocketEventKind.Text, message);
                }
                return new WebSocketEvent(WebSocketEventKind.Binary, message);
            }
        }
    }

    private static WebSocketEvent ParseClose(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0) return new WebSocketEvent(WebSocketEventKind.Close, default, 1005, "");
        if (payload.Length == 1) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, "close frame too short");
        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        bool validCode = code is >= 1000 and <= 1003 or >= 1007 and <= 1011 or >= 3000 and <= 4999;
        if (!validCode) return WebSocketEvent.Violation(WebSocketCloseCodes.ProtocolError, $"invalid status code {code}");
        if (!Utf8.IsValid(payload[2..])) return WebSocketEvent.Violation(WebSocketCloseCodes.InvalidPayload, "invalid UTF-8");
        return new WebSocketEvent(WebSocketEventKind.Close, default, code, Encoding.UTF8.GetString(payload[2..]));
    }

    private static void Unmask(Span<byte> data, uint maskKey, int offset)
    {
        Span<byte> mask = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(mask, maskKey);
        // Word-at-a-time for the bulk, byte-wise for the tail.
        int i = 0;
        if (data.Length >= 8)
        {
            ulong mask64 = BitConverter.IsLittleEndian
                ? (ulong)BinaryPrimitives.ReverseEndianness(maskKey) * 0x0000000100000001UL
                : (ulong)maskKey * 0x0000000100000001UL;
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data);
            for (int w = 0; w < words.Length; w++) words[w] ^= mask64;
            i = words.Length * 8;
        }
        for (; i < data.Length; i++) data[i] ^= mask[(i + offset) & 3];
    }

    private void EnsureMessageCapacity(int needed)
    {
        if (needed <= _message.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(maxMessageBytes, Math.Max(256, _message.Length * 2))));
        _message.AsSpan(0, _messageLength).CopyTo(bigger);
        if (_message.Length > 0) ArrayPool<byte>.Shared.Return(_message);
        _message = bigger;
    }

    private void ReleaseMessage()
    {
        inflater?.Release();
        _completed = false;
        _messageLength = 0;
        if (_message.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_message);
            _message = [];
        }
    }

    /// <summary>Returns pooled buffers; call once when the connection ends.</summary>
    public void Dispose()
    {
        ReleaseMessage();
        inflater?.Dispose();
    }
}
