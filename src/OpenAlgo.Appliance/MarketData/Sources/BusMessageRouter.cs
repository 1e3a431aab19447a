using System.Buffers;
using System.Text;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources;

/// <summary>
/// Turns one bus message (topic, payload) into hub calls, as OpenAlgo's <c>zmq_listener</c> does:
/// market data is re-serialized once (json.loads → json.dumps) and fanned out; order updates go to
/// the payload's <c>user_id</c>. Not thread-safe: one router per receiving thread.
/// </summary>
internal sealed partial class BusMessageRouter(MarketDataHub hub, ILogger logger)
{
    private const int MaxCachedTopics = 200_000;

    private readonly Dictionary<string, BusTopic> _topics = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _payload = new(1024);
    private long _dropped;
    private long _lastWarning;

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Raised for <c>CACHE_INVALIDATE_*</c> topics with the topic and the parsed payload.</summary>
    public Action<string, PyValue?>? CacheInvalidation { get; set; }

    public void Route(ReadOnlySpan<byte> topicBytes, ReadOnlySpan<byte> payload)
    {
        BusTopic topic = Lookup(topicBytes, out string? topicText);
        switch (topic.Kind)
        {
            case BusTopicKind.MarketData:
                _payload.ResetWrittenCount();
                if (!PyJsonReader.TryRewrite(payload, _payload))
                {
                    Drop("payload is not JSON", topicBytes);
                    return;
                }
                hub.TraceTick(hub.Publish(topic.Key, topic.Mode, _payload.WrittenSpan), topic.Key, topic.Mode, _payload.WrittenSpan, "from the bus");
                return;
            case BusTopicKind.OrderUpdate:
                RouteOrderUpdate(payload, topicBytes);
                return;
            case BusTopicKind.CacheInvalidate:
                PyValue? parsed = null;
                try { parsed = PyJsonReader.Parse(payload); } catch (PyJsonException) { }
                CacheInvalidation?.Invoke(topicText ?? Encoding.UTF8.GetString(topicBytes), parsed);
                return;
            case BusTopicKind.Ignored:
                return;
            default:
                Drop(topic.Problem ?? "unroutable topic", topicBytes);
                return;
        }
    }

    private void RouteOrderUpdate(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> topicBytes)
    {
        PyValue parsed;
        try
        {
            parsed = PyJsonReader.Parse(payload);
        }
        catch (PyJsonException)
        {
            Drop("order update payload is not JSON", topicBytes);
            return;
        }
        // OpenAlgo takes the user from the payload, not the topic (spec §9.3 step 3).
        if (parsed is not PyDict dict || dict.Get("user_id") is not { IsTruthy: true } user)
        {
            Drop("order update without user_id", topicBytes);
            return;
        }
        hub.PublishOrderUpdate(user.Str(), PyJsonWriter.Serialize(parsed));
    }

    private BusTopic Lookup(ReadOnlySpan<byte> topicBytes, out string? text)
    {
        text = null;
        Span<char> chars = topicBytes.Length <= 256 ? stackalloc char[256] : new char[topicBytes.Length];
        int count;
        try
        {
            count = Encoding.UTF8.GetChars(topicBytes, chars);
        }
        catch (DecoderFallbackException)
        {
            return new BusTopic(BusTopicKind.Invalid, Problem: "topic is not UTF-8");
        }
        var lookup = _topics.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars[..count], out var cached)) return cached;
        text = new string(chars[..count]);
        var parsed = BusTopic.Parse(text);
        if (_topics.Count >= MaxCachedTopics) _topics.Clear();
        _topics[text] = parsed;
        return parsed;
    }

    private void Drop(string reason, ReadOnlySpan<byte> topic)
    {
        Interlocked.Increment(ref _dropped);
        // A misbehaving publisher can send thousands a second; one line per 10 s is enough to find it.
        long now = Environment.TickCount64;
        if (now - _lastWarning < 10_000) return;
        _lastWarning = now;
        Log.Dropped(logger, Encoding.UTF8.GetString(topic), reason, Dropped);
    }

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Warning, "Dropped bus message on topic {Topic}: {Reason} ({Dropped} dropped so far)")]
        public static partial void Dropped(ILogger logger, string topic, string reason, long dropped);
    }
}
