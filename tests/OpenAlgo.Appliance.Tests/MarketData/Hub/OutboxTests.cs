using System.IO.Pipelines;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Tests.MarketData.Hub;

public sealed class OutboxTests
{
    private static readonly object SymbolA = new();
    private static readonly object SymbolB = new();

    [Fact]
    public async Task Past_the_bound_ticks_conflate_to_the_newest_per_symbol_and_mode_and_replies_are_kept()
    {
        var outbox = new Outbox(bound: 2, TimeProvider.System);
        outbox.EnqueueMarketData([1], SymbolA, 1);
        outbox.EnqueueMarketData([2], SymbolB, 1);
        // Bound reached: the rest conflates.
        outbox.EnqueueMarketData([3], SymbolA, 1);
        outbox.EnqueueMarketData([4], SymbolA, 3);
        outbox.EnqueueMarketData([5], SymbolA, 1);
        outbox.EnqueueControl([9]);
        Assert.True(outbox.IsBacklogged);

        var pipe = new Pipe();
        var run = outbox.RunAsync(pipe.Writer);
        var result = await pipe.Reader.ReadAtLeastAsync(5);
        byte[] sent = System.Buffers.BuffersExtensions.ToArray(result.Buffer);
        pipe.Reader.AdvanceTo(result.Buffer.End);
        // Queue order first (1, 2, reply 9), then the newest of (A,1) = 5 and of (A,3) = 4.
        Assert.Equal(new byte[] { 1, 2, 9, 5, 4 }, sent);
        Assert.Equal(1, outbox.ConflatedTotal);
        Assert.False(outbox.IsBacklogged);

        outbox.Complete();
        Assert.False(await run);
    }

    [Fact]
    public async Task Close_frame_is_last_and_nothing_is_accepted_after_it()
    {
        var outbox = new Outbox(bound: 10, TimeProvider.System);
        outbox.EnqueueControl([1]);
        Assert.True(outbox.EnqueueClose([8]));
        Assert.False(outbox.EnqueueControl([2]));
        Assert.False(outbox.EnqueueMarketData([3], SymbolA, 1));
        var pipe = new Pipe();
        Assert.True(await outbox.RunAsync(pipe.Writer));
        var result = await pipe.Reader.ReadAsync();
        Assert.Equal(new byte[] { 1, 8 }, System.Buffers.BuffersExtensions.ToArray(result.Buffer));
    }

    [Fact]
    public void A_backlogged_outbox_with_no_flush_is_stuck_after_the_timeout()
    {
        var time = new ManualTime();
        var outbox = new Outbox(bound: 1, time);
        outbox.EnqueueMarketData([1], SymbolA, 1);
        outbox.EnqueueMarketData([2], SymbolA, 1);
        Assert.False(outbox.IsStuck(TimeSpan.FromSeconds(30)));
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.True(outbox.IsStuck(TimeSpan.FromSeconds(30)));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;
        public void Advance(TimeSpan by) => _ticks += (long)(by.TotalSeconds * TimestampFrequency);
        public override long GetTimestamp() => _ticks;
        public override long TimestampFrequency => 1_000_000;
    }
}
