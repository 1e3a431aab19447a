namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>How often the renewal loop looks (10 min, ±10 % jitter) and how it backs off; replaceable in tests.</summary>
internal sealed record AcmeSchedule(TimeSpan CheckInterval, Func<int, TimeSpan> Backoff)
{
    public static AcmeSchedule Default { get; } = new(TimeSpan.FromMinutes(10), RenewalPolicy.Backoff);
}
