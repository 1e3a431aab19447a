using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Tests.Tls.Acme;

public sealed class RenewalPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Ninety_day_certificates_renew_at_two_thirds()
    {
        Assert.Equal(Start.AddDays(60), RenewalPolicy.RenewAt(Start, Start.AddDays(90)));
        Assert.False(RenewalPolicy.NeedsRenewal(Start.AddDays(59), Start, Start.AddDays(90)));
        Assert.True(RenewalPolicy.NeedsRenewal(Start.AddDays(60), Start, Start.AddDays(90)));
    }

    [Fact]
    public void Short_lived_certificates_renew_at_half()
    {
        Assert.Equal(Start.AddDays(3), RenewalPolicy.RenewAt(Start, Start.AddDays(6)));
    }

    [Fact]
    public void Ari_window_wins_but_never_past_the_emergency_point()
    {
        Assert.Equal(Start.AddDays(30), RenewalPolicy.RenewAt(Start, Start.AddDays(90), Start.AddDays(20), Start.AddDays(40), jitter: 0.5));
        // A window after the emergency point (1/20 of the lifetime before expiry) is capped.
        Assert.Equal(Start.AddDays(85.5), RenewalPolicy.RenewAt(Start, Start.AddDays(90), Start.AddDays(88), Start.AddDays(89)));
    }

    [Fact]
    public void Backoff_is_1_10_100_minutes_then_daily_forever()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), RenewalPolicy.Backoff(1));
        Assert.Equal(TimeSpan.FromMinutes(10), RenewalPolicy.Backoff(2));
        Assert.Equal(TimeSpan.FromMinutes(100), RenewalPolicy.Backoff(3));
        Assert.Equal(TimeSpan.FromDays(1), RenewalPolicy.Backoff(4));
        Assert.Equal(TimeSpan.FromDays(1), RenewalPolicy.Backoff(400));
    }
}
