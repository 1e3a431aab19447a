using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Tests.Reliability.Faults;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability;

/// <summary>
/// Abuse that is not malformed: floods, bursts and clients that stop reading (docs/reliability.md,
/// "Abuse"). Each asserts what is lost — nothing for the well-behaved client beside the abuser.
/// </summary>
public sealed class AbuseTests(ITestOutputHelper output)
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

    [Fact]
    public async Task Ten_thousand_subscribe_messages_in_one_burst_are_each_answered_in_order_and_rate_limited_while_others_stream()
    {
        await using var appliance = await TestAppliance.StartAsync();
        var quiet = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await quiet.AuthenticateAsync();
        await quiet.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"QUIET\", \"exchange\": \"NSE\", \"mode\": 1}");
        await using var feed = new TickRecorder(quiet, "warm-up");
        using var publisher = BusPublisherFaultTests.StartPublisher(appliance.ZmqEndpoint, "NSE_QUIET_LTP", 0, 500);
        // Disposing a Process does not end it: the publisher is killed whatever happens.
        using var killPublisher = new ProcessKiller(publisher);
        await Eventually.TrueAsync(() => feed.Count > 0, "the quiet client ticked", TimeSpan.FromSeconds(30));
        await Task.Delay(2000); // the ticks a new publisher queued before ZeroMQ connected arrive late
        feed.Phase = "before";
        await Task.Delay(2000);

        using var burster = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        await burster.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        Assert.Contains("\"status\": \"success\"", Encoding.UTF8.GetString((await burster.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value.Payload));
        const int count = 10_000;
        var burst = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            burst.Write(RawWebSocket.BuildFrame(0x81, Encoding.ASCII.GetBytes($"{{\"action\": \"subscribe\", \"symbol\": \"B{i}\", \"exchange\": \"NSE\", \"mode\": 1}}")));
        }
        feed.Phase = "burst";
        var sw = Stopwatch.StartNew();
        await burster.SendRawAsync(burst.ToArray()); // 10,000 frames, one write
        int accepted = 0, limited = 0, lastAccepted = -1;
        for (int i = 0; i < count; i++)
        {
            string reply = Encoding.UTF8.GetString((await burster.ReadFrameAsync(TimeSpan.FromSeconds(30)))!.Value.Payload);
            if (reply.Contains("\"code\": \"RATE_LIMITED\"", StringComparison.Ordinal))
            {
                Assert.Equal("{\"status\": \"error\", \"code\": \"RATE_LIMITED\", \"message\": \"Too many messages: at most 100 per second per connection\"}", reply);
                limited++;
                continue;
            }
            // An accepted subscribe is acknowledged with its own symbol: the answers come in the order the messages were sent.
            int symbol = int.Parse(System.Text.RegularExpressions.Regex.Match(reply, "\"symbol\": \"B(\\d+)\"").Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(symbol > lastAccepted, $"B{symbol} acknowledged after B{lastAccepted}");
            Assert.Contains("\"status\": \"success\"", reply);
            lastAccepted = symbol;
            accepted++;
        }
        var answered = sw.Elapsed;
        await Task.Delay(1000); // "burst": from the write to a second after the last answer
        feed.Phase = "after";
        await Task.Delay(2000);
        await feed.StopAsync();

        // The token bucket (Limits:MessageBurst 500, then Limits:MaxMessagesPerSecond 100): every accepted one is subscribed, no more.
        Assert.Equal(count, accepted + limited);
        Assert.InRange(accepted, 500, 500 + (int)Math.Ceiling(answered.TotalSeconds * 100) + 1);
        var session = appliance.Hub.Sessions.Single(s => s.Subscriptions.Count > 1);
        Assert.Equal(accepted, session.Subscriptions.Count);
        // The limit is a rate, not a ban: after a second the burster is answered again.
        await Task.Delay(1100);
        await burster.SendTextAsync("{\"action\": \"ping\"}");
        Assert.Contains("\"type\": \"pong\"", Encoding.UTF8.GetString((await burster.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value.Payload));

        Assert.Null(feed.Ended);
        Assert.Empty(feed.Gaps);
        var (before, during) = (feed.Latency("before"), feed.Latency("burst"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"10,000 subscribes in one write: all answered in {answered.TotalMilliseconds:0} ms, {accepted} subscribed, {limited} RATE_LIMITED; quiet client p50/p99 {before.P50:0.00}/{before.P99:0.00} ms before, {during.P50:0.00}/{during.P99:0.00} ms from the burst to a second after its last answer ({during.Count} ticks, none lost)"));
    }

    /// <summary>
    /// A client that subscribes and then reads nothing while ticks flow: the server conflates it
    /// (bounded queue) and closes it with 1008 once it has made no progress for
    /// <c>Limits:SlowClientTimeoutSeconds</c>; three clients on the same symbols get every tick in
    /// order meanwhile. CI form: a 256-frame queue and a 3 s timeout. Long form
    /// (<c>RELIABILITY_STALL_SECONDS=600</c>, bench/reliability/stall.sh): the timeout is that long, so
    /// the client reads nothing for 10 minutes, conflated all along, with the process's memory sampled.
    /// </summary>
    [Fact]
    public async Task A_client_that_reads_nothing_is_conflated_then_closed_as_configured_and_nobody_else_is_slowed()
    {
        double stall = double.TryParse(Environment.GetEnvironmentVariable("RELIABILITY_STALL_SECONDS"), CultureInfo.InvariantCulture, out double s) ? s : 0;
        bool longForm = stall > 0;
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.ClientQueueFrames = longForm ? 4096 : 256;
            o.Limits.SlowClientTimeoutSeconds = longForm ? stall : 3;
            o.Limits.CloseTimeoutSeconds = 1;
        });
        string[] symbols = [.. Enumerable.Range(0, 20).Select(i => $"STALL{i}")];
        string subscribe = "{\"action\": \"subscribe\", \"symbols\": [" + string.Join(", ", symbols.Select(x => $"{{\"symbol\": \"{x}\", \"exchange\": \"NSE\"}}")) + "], \"mode\": 1}";
        var fast = new List<TickRecorder>();
        for (int i = 0; i < 3; i++)
        {
            var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
            await client.AuthenticateAsync();
            await client.AskAsync(subscribe);
            fast.Add(new TickRecorder(client, "warm-up"));
        }
        // 1,000 ticks a second of 1 KB over the 20 symbols, numbered: 1 MB/s for each client.
        using var stop = new CancellationTokenSource();
        string pad = new('x', 1000);
        var publishing = Task.Run(async () =>
        {
            using var bus = new BusPublisher(appliance.ZmqEndpoint);
            var clock = Stopwatch.StartNew();
            long seq = 0;
            while (!stop.IsCancellationRequested)
            {
                long due = clock.ElapsedMilliseconds;
                for (; seq < due; seq++)
                {
                    double ts = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;
                    bus.Publish($"NSE_{symbols[seq % symbols.Length]}_LTP", string.Create(CultureInfo.InvariantCulture, $"{{\"ltp\": 1.5, \"seq\": {seq}, \"ts\": {ts:0.000000}, \"pad\": \"{pad}\"}}"));
                }
                await Task.Delay(5);
            }
        });
        try
        {
            await Eventually.TrueAsync(() => fast.All(r => r.Count > 100), "the fast clients ticked", TimeSpan.FromSeconds(30));
            foreach (var r in fast) r.Phase = "before";
            await Task.Delay(2000);

            using var stalled = await RawWebSocket.ConnectAsync(appliance.Internal.Port, receiveBuffer: 4096);
            await stalled.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
            await stalled.ReadFrameAsync(TimeSpan.FromSeconds(10));
            await stalled.SendTextAsync(subscribe);
            await stalled.ReadFrameAsync(TimeSpan.FromSeconds(10));
            var session = appliance.Hub.Sessions.MaxBy(x => x.Id)!;
            foreach (var r in fast) r.Phase = "stalled";
            var since = Stopwatch.StartNew(); // from here it reads nothing
            TimeSpan? backlogged = null;
            long peakWorkingSet = 0, firstWorkingSet = Environment.WorkingSet;
            var lastSample = TimeSpan.Zero;
            while (appliance.Hub.ClientCount > 3 && since.Elapsed < TimeSpan.FromSeconds(stall + 120))
            {
                if (backlogged is null && session.Outbox.IsBacklogged) backlogged = since.Elapsed;
                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
                if (longForm && since.Elapsed - lastSample >= TimeSpan.FromSeconds(60))
                {
                    lastSample = since.Elapsed;
                    output.WriteLine($"{since.Elapsed.TotalSeconds:0} s: conflated {session.Outbox.ConflatedTotal}, backlogged {session.Outbox.IsBacklogged}, test process working set {Environment.WorkingSet >> 20} MiB");
                }
                await Task.Delay(50);
            }
            var closedAfter = since.Elapsed;
            foreach (var r in fast) r.Phase = "after";
            await Task.Delay(2000);
            await stop.CancelAsync();
            await publishing;
            foreach (var r in fast) await r.StopAsync();

            Assert.Equal(3, appliance.Hub.ClientCount);
            Assert.Equal(1, appliance.Hub.Counters.SlowClientDisconnects);
            Assert.NotNull(backlogged);
            long conflated = session.Outbox.ConflatedTotal;
            Assert.True(conflated > 0, "the stalled client was never conflated");
            // Closed once it had made no progress for the configured time after its queue filled (not before it).
            double timeout = longForm ? stall : 3;
            Assert.True(closedAfter - backlogged.Value >= TimeSpan.FromSeconds(timeout - 0.5), $"closed {closedAfter - backlogged.Value} after it backlogged; configured {timeout} s");
            foreach (var r in fast)
            {
                Assert.Null(r.Ended);
                Assert.Empty(r.Gaps);
            }
            string Phase(string name)
            {
                var all = fast.Select(r => r.Latency(name)).ToList();
                return string.Create(CultureInfo.InvariantCulture, $"{all.Sum(l => l.Count)} ticks, p50 {all.Average(l => l.P50):0.00} ms, p99 {all.Max(l => l.P99):0.00} ms");
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stalled reader: backlogged after {backlogged.Value.TotalSeconds:0.0} s, closed 1008 {closedAfter.TotalSeconds:0.0} s after it stopped reading ({(closedAfter - backlogged.Value).TotalSeconds:0.0} s after backlog; configured {timeout} s), {conflated} ticks conflated; test process working set {firstWorkingSet >> 20} → peak {peakWorkingSet >> 20} MiB"));
            output.WriteLine($"fast clients: before {Phase("before")}; while one stalled {Phase("stalled")}; after {Phase("after")}; none lost or reordered");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var r in fast) await r.DisposeAsync();
        }
    }

    /// <summary>Kills a child process (and its children) when disposed.</summary>
    private sealed class ProcessKiller(Process process) : IDisposable
    {
        public void Dispose()
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(5000);
        }
    }

    private static long QueuedReplies(MarketDataHub hub) => hub.Sessions.Select(s => s.Outbox.QueuedReplyBytes).DefaultIfEmpty(0).Max();
}
