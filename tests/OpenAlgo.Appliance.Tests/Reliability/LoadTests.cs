using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using OpenAlgo.Appliance.Tests.Reliability.Faults;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability;

/// <summary>
/// Bounded forms of the load scenarios (docs/reliability.md, "Load"; the long forms are
/// bench/reliability/hold.sh, storm.sh and overload.sh against the native executable): many wss
/// clients held with ticks flowing, a connect storm over TLS and plain, and an overload where slow
/// consumers sit beside fast ones. What they assert is what must hold at any scale — nobody dropped,
/// nothing lost, only the slow conflated —; their timings go to the output, never into an assertion.
/// </summary>
public sealed class LoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Five_hundred_wss_clients_held_with_ticks_flowing_stay_connected_and_lose_nothing()
    {
        await using var appliance = await TestAppliance.StartAsync();
        const int clients = 500, symbols = 50;
        var recorders = new List<TickRecorder>();
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            MaxConnectionsPerServer = int.MaxValue,
        });
        using var stop = new CancellationTokenSource();
        Task publishing = Task.CompletedTask;
        try
        {
            var setup = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, clients), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            {
                var client = await WsTestClient.ConnectAsync(appliance.PublicUri, invoker);
                await client.AuthenticateAsync();
                await client.AskAsync(TestSites.Subscribe($"HOLD{i % symbols}"));
                lock (recorders) recorders.Add(new TickRecorder(client, "warm-up"));
            });
            var connected = setup.Elapsed;

            // 500 ticks a second round-robin over the 50 symbols, each symbol numbered on its own: every client checks it gets each of its symbol's ticks in order.
            publishing = Task.Run(async () =>
            {
                using var bus = new BusPublisher(appliance.ZmqEndpoint);
                var clock = Stopwatch.StartNew();
                long n = 0;
                while (!stop.IsCancellationRequested)
                {
                    for (long due = clock.ElapsedMilliseconds / 2; n < due; n++)
                    {
                        double ts = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;
                        bus.Publish($"NSE_HOLD{n % symbols}_LTP", string.Create(CultureInfo.InvariantCulture, $"{{\"ltp\": 1.5, \"seq\": {n / symbols}, \"ts\": {ts:0.000000}}}"));
                    }
                    await Task.Delay(10);
                }
            });
            await Eventually.TrueAsync(() => recorders.All(r => r.Count > 0), "every client ticked", TimeSpan.FromSeconds(60));
            foreach (var r in recorders) r.Phase = "held";
            long rss0 = Environment.WorkingSet;
            await Task.Delay(TimeSpan.FromSeconds(20));
            await stop.CancelAsync();
            await publishing;
            await Task.Delay(1000);
            foreach (var r in recorders) await r.StopAsync();

            Assert.Equal(clients, appliance.Hub.ClientCount);
            foreach (var r in recorders)
            {
                Assert.Null(r.Ended);
                Assert.Empty(r.Gaps);
                Assert.Equal(WebSocketState.Open, r.Client.State);
            }
            var held = recorders.Select(r => r.Latency("held")).ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{clients} wss clients set up in {connected.TotalSeconds:0.0} s; 20 s at 500 ticks/s: {held.Sum(h => h.Count)} ticks delivered, none lost or reordered, none dropped; p50 {held.Select(h => h.P50).Order().ElementAt(clients / 2):0.00} ms, worst client p99 {held.Max(h => h.P99):0.0} ms; test process working set {rss0 >> 20} → {Environment.WorkingSet >> 20} MiB"));
        }
        finally
        {
            await stop.CancelAsync();
            await publishing;
            foreach (var r in recorders) await r.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("wss")]
    [InlineData("ws")]
    public async Task A_connect_storm_rising_to_400_a_second_is_served_without_an_error_while_connected_clients_stay_answered(string transport)
    {
        await using var appliance = await TestAppliance.StartAsync();
        var uri = transport == "wss" ? appliance.PublicUri : appliance.InternalUri;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = TimeSpan.Zero,
        });
        var held = new List<WsTestClient>();
        for (int i = 0; i < 20; i++)
        {
            var client = await WsTestClient.ConnectAsync(uri, invoker);
            await client.AuthenticateAsync();
            held.Add(client);
        }
        try
        {
            var steps = new List<string>();
            foreach (int rate in new[] { 100, 200, 400 })
            {
                // Open loop: a client every 1/rate s for 2 s, each connecting, upgrading, authenticating and hanging up.
                var attempts = new List<Task<TimeSpan>>();
                var clock = Stopwatch.StartNew();
                for (int n = 0; n < rate * 2; n++)
                {
                    var due = TimeSpan.FromSeconds((double)n / rate);
                    if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
                    attempts.Add(Task.Run(async () =>
                    {
                        var sw = Stopwatch.StartNew();
                        await using var client = await WsTestClient.ConnectAsync(uri, invoker);
                        await client.AuthenticateAsync();
                        return sw.Elapsed;
                    }));
                }
                var times = (await Task.WhenAll(attempts)).Order().ToArray(); // any failure fails the test
                double completed = times.Length / clock.Elapsed.TotalSeconds;
                foreach (var client in held) Assert.Contains("\"type\": \"pong\"", await client.AskAsync("{\"action\": \"ping\"}"));
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"{rate}/s offered: {times.Length} in {clock.Elapsed.TotalSeconds:0.0} s ({completed:0}/s), 0 failed, connect→authenticated p50 {times[times.Length / 2].TotalMilliseconds:0.0} ms, p99 {times[(int)(times.Length * 0.99)].TotalMilliseconds:0.0} ms"));
            }
            await Eventually.TrueAsync(() => appliance.Hub.ClientCount == held.Count, "the storm's clients gone", TimeSpan.FromSeconds(30));
            output.WriteLine($"{transport} storm, 20 clients held and answered after each step: " + string.Join("; ", steps));
        }
        finally
        {
            foreach (var client in held) await client.DisposeAsync();
        }
    }

    /// <summary>
    /// Ticks far faster than two slow consumers read, beside two fast ones on the same symbols: the fast
    /// get every tick in order; the slow are conflated — never disconnected, since they make progress —
    /// and once the burst ends they catch up to the newest price of every symbol.
    /// </summary>
    [Fact]
    public async Task Under_overload_only_slow_consumers_are_conflated_and_they_end_on_the_newest_price()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.ClientQueueFrames = 256);
        string[] symbols = [.. Enumerable.Range(0, 20).Select(i => $"OVER{i}")];
        string subscribe = "{\"action\": \"subscribe\", \"symbols\": [" + string.Join(", ", symbols.Select(x => $"{{\"symbol\": \"{x}\", \"exchange\": \"NSE\"}}")) + "], \"mode\": 1}";
        var fast = new List<TickRecorder>();
        var fastClients = new List<WsTestClient>();
        var slow = new List<RawWebSocket>();
        using var stop = new CancellationTokenSource();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
                await client.AuthenticateAsync();
                await client.AskAsync(subscribe);
                fastClients.Add(client);
                var reader = await RawWebSocket.ConnectAsync(appliance.Internal.Port, receiveBuffer: 4096);
                await reader.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
                await reader.ReadFrameAsync(TimeSpan.FromSeconds(10));
                await reader.SendTextAsync(subscribe);
                await reader.ReadFrameAsync(TimeSpan.FromSeconds(10));
                slow.Add(reader);
            }
            // The slow consumers read a frame, then wait 20 ms: 50 frames a second against 5,000 sent.
            using var burstOver = new CancellationTokenSource();
            var slowSeen = slow.Select(_ => new Dictionary<string, long>()).ToArray();
            var slowFrames = new long[slow.Count];
            var readers = slow.Select((reader, k) => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var frame = await reader.ReadFrameAsync(TimeSpan.FromSeconds(30));
                    if (frame is null) return "closed";
                    if (frame.Value.Opcode == 0x8) return "closed by the server";
                    string text = Encoding.UTF8.GetString(frame.Value.Payload);
                    var m = System.Text.RegularExpressions.Regex.Match(text, "\"symbol\": \"(OVER\\d+)\".*\"seq\": (\\d+)");
                    if (m.Success)
                    {
                        lock (slowSeen[k]) slowSeen[k][m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                        Interlocked.Increment(ref slowFrames[k]);
                    }
                    if (!burstOver.IsCancellationRequested) await Task.Delay(20); // afterwards they drain at full speed

                }
                return "stopped";
            })).ToArray();

            // 5,000 ticks a second of 500 bytes for 10 s, numbered per symbol.
            using (var bus = new BusPublisher(appliance.ZmqEndpoint))
            {
                await bus.PublishUntilReceivedAsync(fastClients[0], "NSE_OVER0_LTP", "{\"ltp\": 0.5, \"pad\": \"warm-up\"}");
                await Task.Delay(500);
                fast.AddRange(fastClients.Select(c => new TickRecorder(c, "overload"))); // they skip the warm-up ticks (no seq)
                string pad = new('x', 500);
                var clock = Stopwatch.StartNew();
                long n = 0;
                while (clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    for (long due = clock.ElapsedMilliseconds * 5; n < due; n++)
                    {
                        int s = (int)(n % symbols.Length);
                        double ts = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;
                        bus.Publish($"NSE_{symbols[s]}_LTP", string.Create(CultureInfo.InvariantCulture, $"{{\"ltp\": 1.5, \"seq\": {n}, \"ts\": {ts:0.000000}, \"pad\": \"{pad}\"}}"));
                    }
                    await Task.Delay(2);
                }
                long published = n;
                await burstOver.CancelAsync();
                // The slow consumers drain what is queued for them; the newest price of each symbol comes last.
                await Eventually.TrueAsync(() => fast.All(r => r.Last == published - 1), "the fast clients got the last tick", TimeSpan.FromSeconds(60));
                for (int k = 0; k < slow.Count; k++)
                {
                    int kk = k;
                    await Eventually.TrueAsync(() =>
                    {
                        // Symbol s's newest tick: the largest n < published with n mod 20 = s.
                        lock (slowSeen[kk]) return symbols.Select((x, s) => slowSeen[kk].TryGetValue(x, out long seq) && seq == published - 1 - ((published - 1 - s) % symbols.Length)).All(ok => ok);
                    }, $"slow consumer {k} ends on the newest tick of every symbol", TimeSpan.FromSeconds(120));
                }
                await stop.CancelAsync();
                foreach (var r in fast) await r.StopAsync();

                var sessions = appliance.Hub.Sessions.OrderBy(x => x.Id).ToList();
                Assert.Equal(4, sessions.Count); // nobody disconnected
                Assert.Equal(0, appliance.Hub.Counters.SlowClientDisconnects);
                long[] conflated = [.. sessions.Select(x => x.Outbox.ConflatedTotal)];
                // Sessions in connect order: fast, slow, fast, slow.
                Assert.Equal(0, conflated[0]);
                Assert.Equal(0, conflated[2]);
                Assert.True(conflated[1] > published / 2 && conflated[3] > published / 2, string.Join(", ", conflated));
                foreach (var r in fast)
                {
                    Assert.Null(r.Ended);
                    Assert.Empty(r.Gaps);
                }
                var lat = fast.Select(r => r.Latency("overload")).ToList();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{published} ticks in 10 s: fast clients got all, in order, p50 {lat.Average(l => l.P50):0.00} ms, p99 {lat.Max(l => l.P99):0.0} ms; slow consumers read {slowFrames[0]} and {slowFrames[1]} frames, {conflated[1]} and {conflated[3]} ticks conflated, none disconnected, each ended on the newest price of all 20 symbols"));
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var r in fast) await r.DisposeAsync();
            foreach (var c in fastClients.Skip(fast.Count)) await c.DisposeAsync();
            foreach (var reader in slow) reader.Dispose();
        }
    }
}
