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
    public void Ari_moment_wins_but_never_past_the_emergency_point()
    {
        Assert.Equal(Start.AddDays(25), RenewalPolicy.RenewAt(Start, Start.AddDays(90), Start.AddDays(25)));
        // A moment after the emergency point (1/20 of the lifetime before expiry) is capped.
        Assert.Equal(Start.AddDays(85.5), RenewalPolicy.RenewAt(Start, Start.AddDays(90), Start.AddDays(88.5)));
    }

    [Fact]
    public void The_moment_in_an_ari_window_follows_the_random_draw()
    {
        Assert.Equal(Start.AddDays(20), RenewalPolicy.ChooseInWindow(Start.AddDays(20), Start.AddDays(40), 0));
        Assert.Equal(Start.AddDays(25), RenewalPolicy.ChooseInWindow(Start.AddDays(20), Start.AddDays(40), 0.25));
        Assert.Equal(Start.AddDays(35), RenewalPolicy.ChooseInWindow(Start.AddDays(20), Start.AddDays(40), 0.75));
        // Spread over the window, not piled at its middle: 1,000 real draws cover every tenth of it.
        var tenths = Enumerable.Range(0, 1000)
            .Select(_ => RenewalPolicy.ChooseInWindow(Start, Start.AddDays(10), Random.Shared.NextDouble()))
            .Select(t => (int)((t - Start).TotalDays))
            .ToHashSet();
        Assert.Equal(10, tenths.Count);
        // An empty or inverted window means "now-ish": its start.
        Assert.Equal(Start, RenewalPolicy.ChooseInWindow(Start, Start, 0.7));
    }

    [Fact]
    public void A_window_keeps_its_moment_until_the_CA_moves_it()
    {
        var now = Start.AddDays(10);
        var first = RenewalWindow.Update(null, "01", Start.AddDays(20), Start.AddDays(40), now, TimeSpan.FromHours(2), () => 0.25);
        Assert.Equal(Start.AddDays(25), first.Chosen);
        Assert.Equal(now.AddHours(2), first.RefreshAt);
        var same = RenewalWindow.Update(first, "01", Start.AddDays(20), Start.AddDays(40), now.AddHours(2), null, () => 0.75);
        Assert.Equal(first.Chosen, same.Chosen);
        Assert.Equal(now.AddHours(8), same.RefreshAt); // no Retry-After: 6 h
        var moved = RenewalWindow.Update(same, "01", Start.AddDays(12), Start.AddDays(14), now.AddHours(4), TimeSpan.FromSeconds(5), () => 0.5);
        Assert.Equal(Start.AddDays(13), moved.Chosen);
        Assert.Equal(now.AddHours(4).AddMinutes(1), moved.RefreshAt); // Retry-After below a minute: a minute
        var renewed = RenewalWindow.Update(moved, "02", Start.AddDays(12), Start.AddDays(14), now, TimeSpan.FromDays(30), () => 0);
        Assert.Equal(Start.AddDays(12), renewed.Chosen); // another certificate: its own draw
        Assert.Equal(now.AddDays(1), renewed.RefreshAt); // Retry-After above a day: a day
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
