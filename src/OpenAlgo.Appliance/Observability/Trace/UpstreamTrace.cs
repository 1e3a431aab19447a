using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.Observability.Trace;

/// <summary>
/// The message trace of one upstream key session (<c>MarketData:Source=OpenAlgo</c>): what the
/// appliance sends OpenAlgo's proxy and what it answers (ticks are written by
/// <see cref="SiteMessageTrace.Tick"/> with the clients that got them). With a Users or Addresses
/// filter the session is traced while one of its local clients matches — or, before any is
/// attached, when OpenAlgo's authenticate reply named a listed user (the request is held until then).
/// </summary>
internal sealed class UpstreamTrace(SiteMessageTrace site, string keyFingerprint, Func<IEnumerable<ClientSession>> clients)
{
    private volatile string? _user;
    private string? _pending;

    /// <summary>A request as sent (the api_key in it is redacted like every other).</summary>
    public void Sent(ReadOnlySpan<byte> message)
    {
        var settings = site.Settings;
        if (settings is null) return;
        string text = TraceText.Of(message);
        if (Matches(settings)) site.Write(settings, $"to OpenAlgo ({Describe()}): {text}");
        else Volatile.Write(ref _pending, text);
    }

    /// <summary>A reply or order update from OpenAlgo's proxy (<paramref name="parsed"/>: its parsed form, when there is one).</summary>
    public void Received(ReadOnlySpan<byte> message, PyDict? parsed)
    {
        var settings = site.Settings;
        if (settings is null) return;
        if (parsed?.Get("type") is PyStr { Value: "auth" } && parsed.Get("user_id") is PyStr { Value.Length: > 0 } user) _user = user.Value;
        string? held = Volatile.Read(ref _pending) is null ? null : Interlocked.Exchange(ref _pending, null);
        if (!Matches(settings)) return;
        if (held is not null) site.Write(settings, $"to OpenAlgo ({Describe()}): {held}");
        site.Write(settings, $"from OpenAlgo ({Describe()}): {TraceText.Of(message)}");
    }

    private string Describe() => _user is { } user ? $"{keyFingerprint}, {user}" : keyFingerprint;

    private bool Matches(TraceSettings settings)
    {
        if (!settings.FiltersClients) return true;
        if (settings.Networks.Count == 0 && _user is { } user && settings.UserMatches(user)) return true;
        foreach (var client in clients())
        {
            if (settings.ClientMatches(client.UserId, client.RemoteAddress)) return true;
        }
        return false;
    }
}
