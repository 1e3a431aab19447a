using System.Buffers;
using System.IO.Compression;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

internal enum InflateStatus
{
    Ok,
    /// <summary>The message inflates past the size limit; inflation stopped at limit + 1 bytes.</summary>
    TooBig,
    /// <summary>Not valid DEFLATE (or a back-reference into a window we no longer have).</summary>
    Invalid,
}

/// <summary>
/// Decompresses one connection's permessage-deflate messages (RFC 7692 §7.2.2: append
/// <c>00 00 FF FF</c>, inflate). When the client keeps its compression context the inflater (and
/// its 32 KiB window) lives as long as the connection; with <c>client_no_context_takeover</c> it is
/// created per message and freed at once, so such a client holds no inflater between messages.
/// Created on the first compressed message only. Output never grows past the size limit + 1
/// byte: a compression bomb costs at most that much inflating.
/// </summary>
internal sealed class MessageInflater(bool noContextTakeover, int maxMessageBytes) : IDisposable
{
    private readonly InputFeed _input = new();
    private DeflateStream? _inflater;
    private byte[] _output = [];

    /// <summary>Inflates <paramref name="compressed"/>; on <see cref="InflateStatus.Ok"/> the message is valid until <see cref="Release"/>.</summary>
    public InflateStatus Inflate(ReadOnlyMemory<byte> compressed, out ReadOnlyMemory<byte> message)
    {
        message = default;
        try
        {
            _input.Set(compressed);
            _inflater ??= NewInflater();
            var status = ReadAll(out int length);
            if (status == InflateStatus.Ok && length == 0 && !_input.Touched)
            {
                // A DEFLATE block with BFINAL set ended the stream in an earlier message (RFC 7692
                // §7.2.3.3 allows it); that inflater reads nothing more. Start a new one: its window
                // is empty, so a message that refers back into the old one fails as Invalid.
                _inflater.Dispose();
                _inflater = NewInflater();
                _input.Set(compressed);
                status = ReadAll(out length);
            }
            if (status == InflateStatus.Ok) message = new ReadOnlyMemory<byte>(_output, 0, length);
            return status;
        }
        catch (InvalidDataException)
        {
            DropInflater();
            return InflateStatus.Invalid;
        }
        finally
        {
            if (noContextTakeover) DropInflater();
        }
    }

    private DeflateStream NewInflater() => new(_input, CompressionMode.Decompress, leaveOpen: true);

    private InflateStatus ReadAll(out int length)
    {
        length = 0;
        int cap = maxMessageBytes + 1;
        while (true)
        {
            if (length == _output.Length)
            {
                if (length >= cap) return InflateStatus.TooBig;
                Grow(Math.Min(cap, Math.Max(4096, Math.Max(length * 2, (int)_input.Length * 4))));
            }
            int room = Math.Min(_output.Length, cap) - length;
            int n = _inflater!.Read(_output.AsSpan(length, room));
            if (n == 0) return InflateStatus.Ok;
            length += n;
            if (length > maxMessageBytes) return InflateStatus.TooBig;
        }
    }

    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _output.AsSpan().CopyTo(bigger);
        if (_output.Length > 0) ArrayPool<byte>.Shared.Return(_output);
        _output = bigger;
    }

    private void DropInflater()
    {
        _inflater?.Dispose();
        _inflater = null;
    }

    /// <summary>Returns the message buffer once the message has been handled.</summary>
    public void Release()
    {
        if (_output.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_output);
        _output = [];
    }

    public void Dispose()
    {
        DropInflater();
        Release();
    }

    /// <summary>The compressed message followed by RFC 7692's <c>00 00 FF FF</c>, as a read-only stream.</summary>
    private sealed class InputFeed : Stream
    {
        private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];
        private ReadOnlyMemory<byte> _data;
        private int _position;

        /// <summary>Whether the inflater asked for any of this message.</summary>
        public bool Touched { get; private set; }

        public void Set(ReadOnlyMemory<byte> data)
        {
            _data = data;
            _position = 0;
            Touched = false;
        }

        public override int Read(Span<byte> buffer)
        {
            Touched = true;
            int n = 0;
            if (_position < _data.Length)
            {
                n = Math.Min(buffer.Length, _data.Length - _position);
                _data.Span.Slice(_position, n).CopyTo(buffer);
                _position += n;
                buffer = buffer[n..];
            }
            int tailAt = _position - _data.Length;
            if (tailAt >= 0 && tailAt < Tail.Length && buffer.Length > 0)
            {
                int t = Math.Min(buffer.Length, Tail.Length - tailAt);
                Tail.AsSpan(tailAt, t).CopyTo(buffer);
                _position += t;
                n += t;
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _data.Length + Tail.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
