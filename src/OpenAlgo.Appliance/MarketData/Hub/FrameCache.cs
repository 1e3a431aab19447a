namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// The frames built for one tick, keyed by (mode tag, broker): each distinct output is serialized
/// once and shared by every recipient that needs it. Reused across ticks by one publishing thread.
/// </summary>
internal sealed class FrameCache
{
    private byte[] _tags = new byte[4];
    private string[] _brokers = new string[4];
    private byte[][] _frames = new byte[4][];
    private int _count;

    public byte[]? Get(byte tag, string broker)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_tags[i] == tag && (ReferenceEquals(_brokers[i], broker) || string.Equals(_brokers[i], broker, StringComparison.Ordinal)))
            {
                return _frames[i];
            }
        }
        return null;
    }

    public byte[] Add(byte tag, string broker, byte[] frame)
    {
        if (_count == _tags.Length)
        {
            Array.Resize(ref _tags, _count * 2);
            Array.Resize(ref _brokers, _count * 2);
            Array.Resize(ref _frames, _count * 2);
        }
        _tags[_count] = tag;
        _brokers[_count] = broker;
        _frames[_count] = frame;
        _count++;
        return frame;
    }

    public void Clear()
    {
        Array.Clear(_brokers, 0, _count);
        Array.Clear(_frames, 0, _count);
        _count = 0;
    }
}
