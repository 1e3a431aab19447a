using System.IO.Pipelines;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// Sits on a TLS connection's output: every buffer the HTTP layer asks for is at least 16 KiB, the
/// largest TLS record. Kestrel's pipe segments are 4 KiB and SslStream encrypts each segment as its
/// own record, so a 1 MiB response cost 256 <c>SSL_write</c> calls and 256 record overheads instead of
/// 64 (measured −32 % throughput against nginx). Asking the TLS pipe writer for 16 KiB makes it take
/// the buffer from the shared array pool instead of Kestrel's 4 KiB blocks — no extra copy — and the
/// buffers go back to the pool after each flush, so idle connections hold none. Only the first buffer
/// after a flush (or a full one) is asked for at 16 KiB: later writes that fit go on in the same buffer.
/// Asking for 16 KiB on every call gave each ≈ 250-byte WebSocket frame written straight to this writer
/// its own pipe segment, TLS record and pooled array (2.8 → 8.1 µs of CPU per delivery over wss).
/// </summary>
internal sealed class FullRecordWriter(PipeWriter inner) : PipeWriter
{
    public const int RecordSize = 16 * 1024;

    /// <summary>Bytes left in the buffer the inner writer last handed out (0 after a flush: start a full record).</summary>
    private int _left;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        var memory = inner.GetMemory(Ask(sizeHint));
        _left = memory.Length;
        return memory;
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        var span = inner.GetSpan(Ask(sizeHint));
        _left = span.Length;
        return span;
    }

    public override void Advance(int bytes)
    {
        inner.Advance(bytes);
        _left = Math.Max(0, _left - bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        _left = 0;
        return inner.FlushAsync(cancellationToken);
    }

    /// <summary>The caller's hint while it fits in the current buffer, else a full record (or more when asked).</summary>
    private int Ask(int sizeHint) => _left > 0 && _left >= Math.Max(sizeHint, 1) ? sizeHint : Math.Max(sizeHint, RecordSize);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    /// <summary>Replaces a connection's transport output with a <see cref="FullRecordWriter"/> over it.</summary>
    public sealed class Transport(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input { get; } = inner.Input;
        public PipeWriter Output { get; } = new FullRecordWriter(inner.Output);
    }
}
