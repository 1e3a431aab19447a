using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Observability.Trace;

/// <summary>
/// The message trace of one client connection: what it sends (<see cref="Received"/>, from its
/// message loop) and what it is sent (<see cref="Sent"/>, from its outbox: replies, order updates,
/// the close frame; WebSocket pings and pongs are left out). Sampled ticks are written by
/// <see cref="SiteMessageTrace.Tick"/>. An authenticate from a client not yet known to match a Users
/// filter is held until the client's identity is known: the line is written before the reply if
/// the key turns out to be that user's, and forgotten otherwise.
/// </summary>
internal sealed class ConnectionTrace(SiteMessageTrace site, ClientSession session)
{
    private string? _pending;

    /// <summary>A message from the client, before it is handled.</summary>
    public void Received(ReadOnlySpan<byte> payload, bool binary)
    {
        var settings = site.Settings;
        if (settings is null) return;
        if (settings.ClientMatches(session.UserId, session.RemoteAddress))
        {
            site.Write(settings, $"from {SiteMessageTrace.Describe(session)}: {(binary ? "(binary) " : "")}{TraceText.Of(payload)}");
        }
        else if (!session.IsAuthenticated && settings.AddressMatches(session.RemoteAddress))
        {
            // Maybe the user of the filter: known once this message (an authenticate) is handled.
            Volatile.Write(ref _pending, (binary ? "(binary) " : "") + TraceText.Of(payload));
        }
    }

    /// <summary>The message is handled: a held line whose client turned out not to match is dropped.</summary>
    public void Handled()
    {
        if (Volatile.Read(ref _pending) is null) return;
        string? held = Interlocked.Exchange(ref _pending, null);
        var settings = site.Settings;
        if (held is not null && settings is not null && settings.ClientMatches(session.UserId, session.RemoteAddress))
        {
            site.Write(settings, $"from {SiteMessageTrace.Describe(session)}: {held}");
        }
    }

    /// <summary>The client's close frame (the appliance's echo of it is traced by <see cref="Sent"/>).</summary>
    public void Closed(int code, string reason)
    {
        var settings = site.Settings;
        if (settings is null || !settings.ClientMatches(session.UserId, session.RemoteAddress)) return;
        site.Write(settings, $"from {SiteMessageTrace.Describe(session)}: {(code == 1005 ? "close (no code)" : $"close {code}")}{(reason.Length > 0 ? " " + TraceText.Escape(TraceText.Redact(reason), reason.Length) : "")}");
    }

    /// <summary>A complete WebSocket frame queued to the client.</summary>
    public void Sent(byte[] frame)
    {
        var settings = site.Settings;
        if (settings is null || !settings.ClientMatches(session.UserId, session.RemoteAddress)) return;
        string? text = TraceText.Frame(frame);
        if (text is null) return;
        string describe = SiteMessageTrace.Describe(session);
        if (Volatile.Read(ref _pending) is not null && Interlocked.Exchange(ref _pending, null) is { } held)
        {
            site.Write(settings, $"from {describe}: {held}");
        }
        site.Write(settings, $"to {describe}: {text}");
    }
}
