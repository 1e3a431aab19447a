using System.Net;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Tests.MarketData.Hub;

/// <summary>The hot path must not allocate per recipient: serialize once, share the bytes.</summary>
public sealed class FanOutAllocationTests
{
    private static readonly byte[] Data = "{\"ltp\": 1418.4}"u8.ToArray();

    private static (MarketDataHub Hub, List<ClientSession> Sessions) HubWith(int clients, bool deflate = false)
    {
        var hub = new MarketDataHub { Limits = new HubLimits { ClientQueueFrames = 1 << 20, MaxClients = 100_000, MaxClientsPerUser = 100_000 } };
        var sessions = new List<ClientSession>();
        var key = new SymbolKey("NSE", "RELIANCE");
        for (int i = 0; i < clients; i++)
        {
            var session = new ClientSession("internal", IPAddress.Loopback, new Outbox(1 << 20, TimeProvider.System), TimeProvider.System, 10)
            {
                // With compression: three of four clients negotiated permessage-deflate.
                DeflateMessageLimit = deflate && i % 4 != 3 ? int.MaxValue : 0,
            };
            Assert.True(hub.TryRegister(session));
            hub.Authorize(session, i % 2 == 0 ? "u1" : "u2", i % 2 == 0 ? "zerodha" : "angel");
            Assert.Null(hub.Reserve(session, key, ModeTags.Bit(1)));
            hub.Route(session, key);
            sessions.Add(session);
        }
        return (hub, sessions);
    }

    private static long BytesForTicks(MarketDataHub hub, int ticks)
    {
        var key = new SymbolKey("NSE", "RELIANCE");
        hub.Publish(key, 1, Data); // warm up: first-time dictionaries, broker suffixes, ring growth
        for (int i = 0; i < 1500; i++) hub.Publish(key, 1, Data); // the outboxes are not drained here: let their rings reach 4096 first
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < ticks; i++) hub.Publish(key, 1, Data);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Allocation_per_tick_does_not_grow_with_the_number_of_recipients()
    {
        var (small, _) = HubWith(2);
        var (large, sessions) = HubWith(2000);
        const int ticks = 200;
        // Best of three: a tier-up or a runtime housekeeping allocation must not decide the result.
        long smallBytes = Enumerable.Range(0, 3).Min(_ => BytesForTicks(small, ticks));
        long largeBytes = Enumerable.Range(0, 3).Min(_ => BytesForTicks(large, ticks));
        // Both hubs build one frame per distinct (mode, broker) per tick (two brokers here) and share it.
        // Even 8 bytes per recipient would be 3.2 MB here; the allowance is 64 KB.
        Assert.True(largeBytes <= smallBytes + 64 * 1024, $"2 recipients: {smallBytes} B, 2000 recipients: {largeBytes} B for {ticks} ticks");
        // Two frames of ~110 bytes plus array headers per tick.
        Assert.True(smallBytes / ticks < 600, $"{smallBytes / ticks} B per tick");
        // Every recipient got every tick (one frame each, shared).
        Assert.All(sessions, s => Assert.False(s.Outbox.IsBacklogged));
    }

    [Fact]
    public void With_permessage_deflate_a_tick_is_compressed_once_per_broker_and_allocation_does_not_grow_with_recipients()
    {
        var (small, _) = HubWith(4, deflate: true);
        var (large, sessions) = HubWith(2000, deflate: true);
        const int ticks = 200;
        long smallBytes = Enumerable.Range(0, 3).Min(_ => BytesForTicks(small, ticks));
        long compressionsBefore = large.FramesCompressed;
        long ticksBefore = large.TicksIn;
        long largeBytes = Enumerable.Range(0, 3).Min(_ => BytesForTicks(large, ticks));
        // Two brokers, one mode: two compressions per tick however many of the 1,500 compressing clients get it.
        Assert.Equal(2 * (large.TicksIn - ticksBefore), large.FramesCompressed - compressionsBefore);
        Assert.True(largeBytes <= smallBytes + 64 * 1024, $"4 recipients: {smallBytes} B, 2000 recipients: {largeBytes} B for {ticks} ticks");
        Assert.All(sessions, s => Assert.False(s.Outbox.IsBacklogged));
    }
}
