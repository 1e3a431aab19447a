using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// The frames built for one tick, keyed by (mode tag, broker): each distinct output is serialized
/// once and shared by every recipient that needs it, and compressed (permessage-deflate) at most
/// once, on the first recipient that negotiated compression. Reused across ticks by one publishing
/// thread.
/// </summary>
internal sealed class FrameCache
{
    private byte[] _tags = new byte[4];
    private string[] _brokers = new string[4];
    private byte[][] _frames = new byte[4][];
    private byte[]?[] _deflated = new byte[4][];
    private int _count;

    /// <summary>Compressions done for the current tick.</summary>
    public int Compressions { get; private set; }

    /// <summary>The entry for (tag, broker), or -1.</summary>
    public int Find(byte tag, string broker)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_tags[i] == tag && (ReferenceEquals(_brokers[i], broker) || string.Equals(_brokers[i], broker, StringComparison.Ordinal)))
            {
                return i;
            }
        }
        return -1;
    }

    public int Add(byte tag, string broker, byte[] frame)
    {
        if (_count == _tags.Length)
        {
            Array.Resize(ref _tags, _count * 2);
            Array.Resize(ref _brokers, _count * 2);
            Array.Resize(ref _frames, _count * 2);
            Array.Resize(ref _deflated, _count * 2);
        }
        _tags[_count] = tag;
        _brokers[_count] = broker;
        _frames[_count] = frame;
        return _count++;
    }

    public byte[] Frame(int index) => _frames[index];

    /// <summary>
    /// The frame for a client that negotiated permessage-deflate: the compressed one when the
    /// message fits its <paramref name="limit"/> and compression made it smaller, else the plain one.
    /// </summary>
    public byte[] Deflated(int index, int limit)
    {
        byte[] plain = _frames[index];
        int payloadLength = plain.Length - WebSocketFrames.HeaderLengthOf(plain);
        if (payloadLength > limit) return plain;
        if (_deflated[index] is { } done) return done;
        Compressions++;
        var frame = MessageDeflater.Current.BuildFrame(WebSocketFrames.OpText, plain.AsSpan(plain.Length - payloadLength)) ?? plain;
        _deflated[index] = frame;
        return frame;
    }

    public void Clear()
    {
        Array.Clear(_brokers, 0, _count);
        Array.Clear(_frames, 0, _count);
        Array.Clear(_deflated, 0, _count);
        _count = 0;
        Compressions = 0;
    }
}
