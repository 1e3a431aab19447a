using System.Text;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Reliability;

/// <summary>
/// Abuse that is not malformed: floods, bursts and clients that stop reading (docs/reliability.md,
/// "Abuse"). Each asserts what is lost — nothing for the well-behaved client beside the abuser.
/// </summary>
public sealed class AbuseTests
{
    [Fact]
    public async Task A_ping_and_message_flood_from_a_client_that_reads_nothing_stays_bounded_and_is_closed_while_others_are_served()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.SlowClientTimeoutSeconds = 2;
            o.Limits.CloseTimeoutSeconds = 1;
        });
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await other.AuthenticateAsync();

        using var flooder = await RawWebSocket.ConnectAsync(appliance.Internal.Port, receiveBuffer: 4096);
        // Pings with 125-byte payloads and application pings, in 128 KiB writes, never reading a byte.
        byte[] ping = RawWebSocket.BuildFrame(0x89, new byte[125]);
        byte[] message = RawWebSocket.BuildFrame(0x81, Encoding.ASCII.GetBytes("{\"action\": \"ping\"}"));
        var batch = new MemoryStream();
        for (int i = 0; batch.Length < 128 * 1024; i++)
        {
            batch.Write(ping);
            if (i % 7 == 0) batch.Write(message);
        }
        byte[] chunk = batch.ToArray();
        const long cap = 256L << 20;
        long sent = 0;
        long maxQueued = 0;
        while (sent < cap)
        {
            var write = flooder.SendRawAsync(chunk).AsTask();
            // The server stops reading once its answers back up; the kernel buffers fill and the write stalls.
            while (!write.IsCompleted)
            {
                maxQueued = Math.Max(maxQueued, QueuedReplies(appliance.Hub));
                if (await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(5))) != write) break;
            }
            if (!write.IsCompleted) break;
            if (write.IsFaulted) break; // already closed as too slow
            sent += chunk.Length;
            maxQueued = Math.Max(maxQueued, QueuedReplies(appliance.Hub));
        }
        Assert.True(sent < cap, $"the server read {sent >> 20} MiB of Pings from a client that reads nothing");
        Assert.True(maxQueued <= Outbox.ReplyBacklogLimit + 1024, $"{maxQueued} bytes of answers queued for one client");

        // Cut as a slow client (1008 after SlowClientTimeoutSeconds, then aborted): the other is served throughout.
        await Eventually.TrueAsync(() => appliance.Hub.ClientCount == 1, "the flooder closed", TimeSpan.FromSeconds(60));
        Assert.Contains("\"type\": \"pong\"", await other.AskAsync("{\"action\": \"ping\"}"));
        Assert.Equal(1, appliance.Hub.Counters.SlowClientDisconnects);
    }

    private static long QueuedReplies(MarketDataHub hub) => hub.Sessions.Select(s => s.Outbox.QueuedReplyBytes).DefaultIfEmpty(0).Max();
}
