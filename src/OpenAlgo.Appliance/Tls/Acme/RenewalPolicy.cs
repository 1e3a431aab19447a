namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// When to renew, as a pure function (certmagic's ratios): at 2/3 of the lifetime (1/2 for
/// certificates under 10 days), or inside the CA's ARI window when it suggests one — but never later
/// than the emergency point, 1/20 of the lifetime before expiry, whatever ARI says.
/// </summary>
internal static class RenewalPolicy
{
    public static DateTimeOffset RenewAt(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset? ariStart = null, DateTimeOffset? ariEnd = null, double jitter = 0.5)
    {
        var lifetime = notAfter - notBefore;
        double ratio = lifetime < TimeSpan.FromDays(10) ? 0.5 : 2.0 / 3.0;
        var byRatio = notBefore + lifetime * ratio;
        var emergency = notAfter - lifetime / 20;
        if (ariStart is { } start && ariEnd is { } end && end > start)
        {
            // A random point in the suggested window spreads the CA's load (RFC 9773 §4.2).
            var chosen = start + (end - start) * Math.Clamp(jitter, 0, 1);
            return chosen < emergency ? chosen : emergency;
        }
        return byRatio;
    }

    public static bool NeedsRenewal(DateTimeOffset now, DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset? ariStart = null, DateTimeOffset? ariEnd = null)
        => now >= RenewAt(notBefore, notAfter, ariStart, ariEnd);

    /// <summary>1 min, 10 min, 100 min, then daily — retried forever.</summary>
    public static TimeSpan Backoff(int failures) => failures switch
    {
        <= 1 => TimeSpan.FromMinutes(1),
        2 => TimeSpan.FromMinutes(10),
        3 => TimeSpan.FromMinutes(100),
        _ => TimeSpan.FromDays(1),
    };
}
