using OpenAlgo.Appliance.Observability.Trace;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>What the message trace asks of the hub — outside the fan-out, which knows nothing of it.</summary>
internal sealed partial class MarketDataHub
{
    /// <summary>The site's message trace; null where there is none (a hub built alone in a test or a benchmark).</summary>
    public SiteMessageTrace? Trace { get; init; }

    /// <summary>
    /// Hands a tick the fan-out just queued (<paramref name="queued"/> frames) to the message trace.
    /// Sources call it after <see cref="Publish"/>: off, one volatile read per tick; nothing per recipient.
    /// </summary>
    public void TraceTick(int queued, SymbolKey key, int mode, ReadOnlySpan<byte> data, string origin)
    {
        if (queued > 0) Trace?.Tick(this, key, mode, data, origin);
    }

    /// <summary>The clients a tick of <paramref name="key"/> at <paramref name="mode"/> reaches, with the mode tag each gets: for a sampled tick, never the fan-out.</summary>
    internal List<(ClientSession Session, byte Tag)> TraceRecipients(SymbolKey key, int mode)
    {
        var recipients = new List<(ClientSession, byte)>();
        if (!_symbols.TryGetValue(key, out var entry)) return recipients;
        foreach (var subscriber in entry.Subscribers)
        {
            if (subscriber is null) continue;
            byte tag = ModeTags.TagFor(subscriber.Modes, mode);
            if (tag != 0) recipients.Add((subscriber.Session, tag));
        }
        return recipients;
    }
}
