using Microsoft.Extensions.Logging.Abstractions;
using OpenAlgo.Appliance.MarketData;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>After a burst of large messages the heap is collected once, when the burst is over; never in ordinary use.</summary>
public sealed class BurstMemoryTrimmerTests
{
    private sealed class ManualTime : TimeProvider
    {
        private long _now = 1;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Interlocked.Read(ref _now);
        public void Advance(TimeSpan by) => Interlocked.Add(ref _now, by.Ticks);
    }

    [Fact]
    public async Task Collects_once_after_a_burst_has_been_quiet_for_a_while()
    {
        var time = new ManualTime();
        using var lane = new BulkMessageLane(time, threads: 1);
        int collections = 0;
        var trimmer = new BurstMemoryTrimmer(lane, time, NullLogger<BurstMemoryTrimmer>.Instance) { Collect = () => collections++ };

        // Ordinary use: 3,000-symbol subscribes now and then. Never collected.
        for (int i = 0; i < 100; i++) await lane.RunAsync(135_000, () => default);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(trimmer.Check());

        // A burst: 64 MB of large messages. Not while it goes on, nor right after it.
        var release = new TaskCompletionSource();
        var held = lane.RunAsync(1 << 20, async () => await release.Task);
        for (int i = 0; i < 64; i++) await lane.RunAsync(1 << 20, () => default);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(trimmer.Check()); // a message is still being handled
        release.SetResult();
        await held;
        time.Advance(BurstMemoryTrimmer.QuietFor - TimeSpan.FromSeconds(1));
        Assert.False(trimmer.Check());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(trimmer.Check());
        Assert.Equal(1, collections);

        // Once per burst.
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(trimmer.Check());
        await lane.RunAsync(1 << 20, () => default);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(trimmer.Check());
        Assert.Equal(1, collections);
        Assert.Equal(1, trimmer.Trims);
    }
}
