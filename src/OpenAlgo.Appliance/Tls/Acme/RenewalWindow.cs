using System.Text.Json.Serialization;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// The CA's ARI window (RFC 9773) for one certificate, the moment we chose inside it, and when to ask
/// again. Persisted with the ACME state (<see cref="AcmeStore"/>), so a restart neither re-rolls the
/// moment nor asks the CA before <see cref="RefreshAt"/>; certmagic keeps its choice the same way.
/// </summary>
internal sealed record RenewalWindow(
    [property: JsonPropertyName("serial")] string Serial,
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset End,
    [property: JsonPropertyName("chosen")] DateTimeOffset Chosen,
    [property: JsonPropertyName("refreshAt")] DateTimeOffset RefreshAt)
{
    /// <summary>Retry-After bounds: at least a minute apart, and at least daily (Let's Encrypt asks for twice a day).</summary>
    public static readonly TimeSpan MinRefresh = TimeSpan.FromMinutes(1), MaxRefresh = TimeSpan.FromDays(1), DefaultRefresh = TimeSpan.FromHours(6);

    /// <summary>
    /// The window the CA just sent. The same window as before keeps its chosen moment; a changed
    /// window (the CA moved it, e.g. ahead of a revocation) gets a new random moment inside it.
    /// </summary>
    public static RenewalWindow Update(RenewalWindow? previous, string serial, DateTimeOffset start, DateTimeOffset end, DateTimeOffset now, TimeSpan? retryAfter, Func<double> random)
    {
        var refresh = retryAfter is { } r ? (r < MinRefresh ? MinRefresh : r > MaxRefresh ? MaxRefresh : r) : DefaultRefresh;
        bool same = previous is not null && previous.Serial == serial && previous.Start == start && previous.End == end;
        var chosen = same ? previous!.Chosen : RenewalPolicy.ChooseInWindow(start, end, random());
        return new RenewalWindow(serial, start, end, chosen, now + refresh);
    }
}
