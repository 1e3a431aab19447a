using System.IO.Compression;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>
/// Compresses one outgoing message into a complete permessage-deflate frame (RFC 7692 §7.2.1:
/// raw DEFLATE ending in a sync flush whose trailing <c>00 00 FF FF</c> is cut, RSV1 set). Every
/// message starts from an empty window (the <c>server_no_context_takeover</c> we always answer),
/// so the frame depends only on the payload and is built once for every recipient. One instance
/// per publishing thread: not thread-safe.
/// </summary>
internal sealed class MessageDeflater
{
    /// <summary>
    /// zlib level 1, chosen by measurement (docs/benchmarks.md, "permessage-deflate"; bench/deflate):
    /// on the bench's LTP, Quote and 5-level Depth ticks (254, 444, 784-byte frames) level 1 gave
    /// 161, 294, 334 bytes for about 7 µs of CPU per frame; levels 2–6 gave 149–152, 246–248,
    /// 276–291 bytes for 10–12 µs, level 9 a few bytes less for 11–15 µs. About 6 µs of level 1 is
    /// the compressor's set-up: System.IO.Compression cannot reset a DeflateStream, and no context
    /// takeover needs an empty window per message.
    /// </summary>
    public const int CompressionLevel = 1;

    [ThreadStatic] private static MessageDeflater? t_current;

    private readonly OutputBuffer _output = new();
    private readonly ZLibCompressionOptions _options;

    /// <param name="level">zlib level 1–9; other than the default only for bench/deflate's level sweep.</param>
    internal MessageDeflater(int level = CompressionLevel) => _options = new() { CompressionLevel = level };

    public static MessageDeflater Current => t_current ??= new MessageDeflater();

    /// <summary>
    /// The complete frame for <paramref name="payload"/> compressed, or null when compression
    /// would not make it smaller (the plain frame is the better one to send).
    /// </summary>
    public byte[]? BuildFrame(byte opcode, ReadOnlySpan<byte> payload)
    {
        _output.Reset();
        int end;
        using (var deflate = new DeflateStream(_output, _options, leaveOpen: true))
        {
            deflate.Write(payload);
            deflate.Flush(); // Z_SYNC_FLUSH: ends in an empty stored block, 00 00 FF FF
            end = _output.WrittenLength;
        }
        // Disposing adds a final block after the flush; the message ends at the flush.
        ReadOnlySpan<byte> compressed = _output.Written[..end];
        if (compressed.Length < 4 || !compressed[^4..].SequenceEqual(SyncFlushTail))
        {
            throw new InvalidOperationException("DEFLATE sync flush did not end with 00 00 FF FF");
        }
        compressed = compressed[..^4];
        if (compressed.Length >= payload.Length) return null;
        var frame = new byte[WebSocketFrames.HeaderLength(compressed.Length) + compressed.Length];
        int header = WebSocketFrames.WriteHeader(frame, opcode, compressed.Length);
        frame[0] |= WebSocketFrames.Rsv1;
        compressed.CopyTo(frame.AsSpan(header));
        return frame;
    }

    private static ReadOnlySpan<byte> SyncFlushTail => [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>A write-only stream over a reused buffer.</summary>
    private sealed class OutputBuffer : Stream
    {
        private byte[] _buffer = new byte[4096];
        private int _length;

        public int WrittenLength => _length;
        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public void Reset() => _length = 0;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_length + buffer.Length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + buffer.Length));
            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush() { }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
