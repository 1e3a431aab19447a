using System.Net;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Tests.MarketData.Hub;

/// <summary>
/// The per-symbol subscriber slots: a change costs the same whatever the symbol's audience (a
/// copy-on-write array copied every subscriber per change), and a pass of the fan-out never meets
/// a client twice nor misses one that stayed subscribed, while others come and go.
/// </summary>
public sealed class SymbolEntryTests
{
    private static ClientSession NewSession() => new("internal", IPAddress.Loopback, new Outbox(16, TimeProvider.System), TimeProvider.System, 10);

    private static Dictionary<ClientSession, byte> Live(SymbolEntry entry)
    {
        var live = new Dictionary<ClientSession, byte>();
        foreach (var s in entry.Subscribers)
        {
            if (s is null || s.Modes == 0) continue;
            Assert.True(live.TryAdd(s.Session, s.Modes), "a client appears twice");
        }
        return live;
    }

    private static long BytesPerChange(int audience)
    {
        var entry = new SymbolEntry(new SymbolKey("NSE", "NIFTY"));
        for (int i = 0; i < audience; i++) entry.Set(NewSession(), 1);
        var churner = NewSession();
        entry.Set(churner, 1);
        entry.Set(churner, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            entry.Set(churner, 1);
            entry.Set(churner, 0);
        }
        return (GC.GetAllocatedBytesForCurrentThread() - before) / 2000;
    }

    [Fact]
    public void A_change_costs_the_same_for_ten_or_ten_thousand_subscribers()
    {
        // Bytes allocated per subscribe or unsubscribe stand in for the work: the copy-on-write array
        // allocated 16 bytes per existing subscriber (160 KB per change at 10,000).
        long few = BytesPerChange(10);
        long many = BytesPerChange(10_000);
        Assert.True(many <= few + 16, $"10 subscribers: {few} B per change; 10,000: {many} B per change");
        Assert.True(many <= 64, $"{many} B per change");
    }

    [Fact]
    public void Modes_follow_set_remove_and_return_and_the_departed_are_let_go()
    {
        var entry = new SymbolEntry(new SymbolKey("NSE", "INFY"));
        var sessions = Enumerable.Range(0, 20).Select(_ => NewSession()).ToArray();
        foreach (var s in sessions) entry.Set(s, 1);
        entry.Set(sessions[3], 5);
        Assert.Equal(20, entry.Count);
        Assert.Equal(5, entry.UnionModes);
        Assert.Equal(5, Live(entry)[sessions[3]]);

        // Most leave: once the departed outnumber the present the array is rebuilt without them
        // (their sessions no longer referenced), so they never do for long.
        for (int i = 0; i < 15; i++)
        {
            entry.Set(sessions[i], 0);
            int departed = entry.Subscribers.Count(s => s is { Modes: 0 });
            Assert.True(departed <= entry.Count, $"{departed} departed slots kept for {entry.Count} subscribers");
        }
        Assert.Equal(5, entry.Count);
        Assert.Equal(sessions[15..], Live(entry).Keys.OrderBy(s => s.Id));
        Assert.DoesNotContain(entry.Subscribers, s => s is not null && s.Session == sessions[0]);
        Assert.Equal(1, entry.UnionModes);

        // One comes back, another changes modes; removing what is not there changes nothing.
        entry.Set(sessions[0], 2);
        entry.Set(sessions[16], 3);
        entry.Set(NewSession(), 0);
        Assert.Equal(6, entry.Count);
        Assert.Equal(2, Live(entry)[sessions[0]]);
        Assert.Equal(3, Live(entry)[sessions[16]]);

        foreach (var s in sessions) entry.Set(s, 0);
        Assert.Equal(0, entry.Count);
        Assert.Equal(0, entry.UnionModes);
        Assert.Empty(entry.Subscribers);
    }

    [Fact]
    public void A_pass_over_the_slots_meets_each_client_once_and_never_misses_one_that_stayed()
    {
        var entry = new SymbolEntry(new SymbolKey("NSE", "TCS"));
        var stayers = Enumerable.Range(0, 50).Select(_ => NewSession()).ToArray();
        var churners = Enumerable.Range(0, 200).Select(_ => NewSession()).ToArray();
        foreach (var s in stayers) entry.Set(s, 1);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                // Join, change, leave and come back in every order: growth, slot reuse and rebuilds all happen.
                var s = churners[random.Next(churners.Length)];
                entry.Set(s, (byte)random.Next(0, 8));
            }
        });
        int passes = 0;
        try
        {
            var seen = new HashSet<ClientSession>();
            for (; passes < 20_000; passes++)
            {
                seen.Clear();
                foreach (var s in entry.Subscribers)
                {
                    if (s is null || s.Modes == 0) continue;
                    Assert.True(seen.Add(s.Session), $"pass {passes}: a client met twice");
                }
                foreach (var s in stayers) Assert.Contains(s, seen);
            }
        }
        finally
        {
            stop.Cancel();
            writer.Wait();
        }
        Assert.Equal(20_000, passes);
    }
}
