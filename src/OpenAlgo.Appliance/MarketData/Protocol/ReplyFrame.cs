using System.Buffers;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>
/// A reply serialized straight into one complete text frame. The JSON goes into pooled segments
/// first (its length is not known up front), then once into a frame of exactly the right size:
/// the frame is the only allocation. Serializing into a growing array and then copying it into a
/// frame allocated about four times the reply's size, all of it on the large-object heap for the
/// 330 KB answer to a 3,000-symbol subscribe.
/// </summary>
internal static class ReplyFrame
{
    public static byte[] Text(PyValue reply)
    {
        using var json = new SegmentWriter();
        PyJsonWriter.WriteValue(json, reply);
        int length = checked((int)json.Length);
        var frame = new byte[WebSocketFrames.HeaderLength(length) + length];
        int header = WebSocketFrames.WriteHeader(frame, WebSocketFrames.OpText, length);
        json.CopyTo(frame.AsSpan(header));
        return frame;
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over 16 KiB segments rented from the shared pool.</summary>
    private sealed class SegmentWriter : IBufferWriter<byte>, IDisposable
    {
        private const int SegmentBytes = 16 * 1024;
        private readonly List<(byte[] Array, int Used)> _full = [];
        private byte[] _current = ArrayPool<byte>.Shared.Rent(SegmentBytes);
        private int _used;

        public long Length { get; private set; }

        public void Advance(int count)
        {
            _used += count;
            Length += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(_used);

        public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(_used);

        private byte[] Ensure(int sizeHint)
        {
            if (_current.Length - _used >= Math.Max(1, sizeHint)) return _current;
            _full.Add((_current, _used));
            _current = ArrayPool<byte>.Shared.Rent(Math.Max(SegmentBytes, sizeHint));
            _used = 0;
            return _current;
        }

        public void CopyTo(Span<byte> destination)
        {
            foreach (var (array, used) in _full)
            {
                array.AsSpan(0, used).CopyTo(destination);
                destination = destination[used..];
            }
            _current.AsSpan(0, _used).CopyTo(destination);
        }

        public void Dispose()
        {
            foreach (var (array, _) in _full) ArrayPool<byte>.Shared.Return(array);
            ArrayPool<byte>.Shared.Return(_current);
        }
    }
}
