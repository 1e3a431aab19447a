namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// How often the renewal loop looks (<c>Tls:Acme:RenewCheckInterval</c>, ±10 % jitter; it also wakes
/// at the renewal point), how it backs off, and where the random moment in an ARI window comes from.
/// Replaceable in tests.
/// </summary>
internal sealed record AcmeSchedule(TimeSpan CheckInterval, Func<int, TimeSpan> Backoff)
{
    /// <summary>A number in [0, 1): the jitter of the periodic check and the moment chosen in an ARI window.</summary>
    public Func<double> Random { get; init; } = System.Random.Shared.NextDouble;

    public static AcmeSchedule From(Configuration.AcmeSection acme) => new(acme.RenewCheckInterval, RenewalPolicy.Backoff);
}
