namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// When to renew, as a pure function (certmagic's ratios): at 2/3 of the lifetime (1/2 for
/// certificates under 10 days), or at the moment chosen inside the CA's ARI window when it suggests
/// one (<see cref="RenewalWindow"/>) — but never later than the emergency point, 1/20 of the
/// lifetime before expiry, whatever ARI says.
/// </summary>
internal static class RenewalPolicy
{
    public static DateTimeOffset RenewAt(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset? ariChosen = null)
        => Plan(notBefore, notAfter, ariChosen).At;

    /// <summary>When to renew and which rule decided it (what <c>certificates</c> and the status page show).</summary>
    public static (DateTimeOffset At, RenewalReason Reason) Plan(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset? ariChosen = null)
    {
        var lifetime = notAfter - notBefore;
        bool shortLived = lifetime < TimeSpan.FromDays(10);
        var byRatio = notBefore + lifetime * (shortLived ? 0.5 : 2.0 / 3.0);
        var emergency = notAfter - lifetime / 20;
        if (ariChosen is { } chosen) return chosen < emergency ? (chosen, RenewalReason.AriWindow) : (emergency, RenewalReason.Emergency);
        return (byRatio, shortLived ? RenewalReason.HalfOfLifetime : RenewalReason.TwoThirdsOfLifetime);
    }

    /// <summary>Human words for a reason, as <c>certificates</c> prints them.</summary>
    public static string Describe(RenewalReason reason) => reason switch
    {
        RenewalReason.AriWindow => "inside the CA's ARI renewal window",
        RenewalReason.Emergency => "emergency: 1/20 of the lifetime before expiry (the CA's ARI window is later)",
        RenewalReason.HalfOfLifetime => "at 1/2 of the lifetime (short-lived certificate)",
        RenewalReason.TwoThirdsOfLifetime => "at 2/3 of the lifetime",
        RenewalReason.BeforeExpiry => "30 days before expiry (self-signed)",
        RenewalReason.FileChange => "when the files change (Tls:Mode=Files: renewed by whoever writes them)",
        _ => reason.ToString(),
    };

    public static bool NeedsRenewal(DateTimeOffset now, DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset? ariChosen = null)
        => now >= RenewAt(notBefore, notAfter, ariChosen);

    /// <summary>
    /// A uniformly random moment in the CA's suggested window (RFC 9773 §4.2): clients that all
    /// renewed at the window's start or middle would arrive at the CA together.
    /// <paramref name="random"/> is in [0, 1).
    /// </summary>
    public static DateTimeOffset ChooseInWindow(DateTimeOffset start, DateTimeOffset end, double random)
        => end > start ? start + (end - start) * Math.Clamp(random, 0, 1) : start;

    /// <summary>1 min, 10 min, 100 min, then daily — retried forever.</summary>
    public static TimeSpan Backoff(int failures) => failures switch
    {
        <= 1 => TimeSpan.FromMinutes(1),
        2 => TimeSpan.FromMinutes(10),
        3 => TimeSpan.FromMinutes(100),
        _ => TimeSpan.FromDays(1),
    };
}

/// <summary>Which rule sets a certificate's next renewal.</summary>
internal enum RenewalReason
{
    TwoThirdsOfLifetime,
    HalfOfLifetime,
    AriWindow,
    Emergency,
    BeforeExpiry,
    FileChange,
}
