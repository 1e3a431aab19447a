using System.Globalization;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls.Acme;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// The wall clock jumping forwards and backwards (docs/reliability.md, "Clock jumps") through the
/// TimeProvider every part of the running appliance takes: a year ahead, a year back, and home
/// again. Timers, pings and timeouts run on the monotonic clock, so clients are neither timed out
/// nor left unpinged and no tick is lost; certificate decisions read the wall clock, so a clock a
/// year ahead sees every certificate expired — and must not order one a second for it.
/// </summary>
public sealed partial class ClockJumpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_year_forwards_and_backwards_drops_no_client_and_loses_no_tick()
    {
        var clock = new WallClock();
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.PingIntervalSeconds = 1;
            o.Limits.PingTimeoutSeconds = 2;
            o.Limits.AuthGraceSeconds = 2;
        }, services: s =>
        {
            s.AddSingleton<TimeProvider>(clock);
            log.Register(s);
        });
        var clients = new List<WsTestClient>();
        for (int i = 0; i < 4; i++)
        {
            var client = await WsTestClient.ConnectAsync(i % 2 == 0 ? appliance.PublicUri : appliance.InternalUri);
            await client.AuthenticateAsync();
            await client.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"CLOCK\", \"exchange\": \"NSE\", \"mode\": 1}");
            clients.Add(client);
        }
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        foreach (var client in clients) await bus.PublishUntilReceivedAsync(client, "NSE_CLOCK_LTP", "{\"ltp\": 1, \"seq\": -1}");

        int published = 0;
        async Task TickForAsync(TimeSpan span)
        {
            var until = DateTime.UtcNow + span;
            while (DateTime.UtcNow < until)
            {
                bus.Publish("NSE_CLOCK_LTP", $"{{\"ltp\": 2, \"seq\": {published++}}}");
                await Task.Delay(20);
            }
        }
        await TickForAsync(TimeSpan.FromSeconds(2));
        clock.Offset = TimeSpan.FromDays(365);       // a year ahead
        await TickForAsync(TimeSpan.FromSeconds(4)); // past the ping timeout twice over
        clock.Offset = TimeSpan.FromDays(-365);      // a year back
        await TickForAsync(TimeSpan.FromSeconds(4));
        clock.Offset = TimeSpan.Zero;
        await TickForAsync(TimeSpan.FromSeconds(1));

        // A client connecting while the clock was off was still held to the 2 s authentication grace (monotonic).
        clock.Offset = TimeSpan.FromDays(-365);
        await using (var idle = await WsTestClient.ConnectAsync(appliance.InternalUri))
        {
            var (code, reason) = await idle.ReceiveCloseAsync(TimeSpan.FromSeconds(15));
            Assert.Equal((4401, "auth timeout"), (code, reason));
        }
        clock.Offset = TimeSpan.Zero;

        foreach (var client in clients)
        {
            int next = 0;
            while (next < published)
            {
                string message = await client.ReceiveAsync(TimeSpan.FromSeconds(15));
                int seq = int.Parse(SeqField().Match(message).Groups[1].Value, CultureInfo.InvariantCulture);
                if (seq < 0) continue;
                Assert.Equal(next, seq);
                next++;
            }
            Assert.Equal(WebSocketState.Open, client.State);
        }
        output.WriteLine($"{published} ticks to each of 4 clients across jumps of +365 and -365 days; none dropped (pings every 1 s, timeout 2 s)");
        await Eventually.TrueAsync(() => appliance.Hub.ClientCount == 4, "only the 4 clients left (the idle one closed for its auth timeout)", TimeSpan.FromSeconds(30));
        Assert.True(log.Problems.Count == 0, string.Join("\n", log.Problems.Take(5)));
        foreach (var client in clients) await client.DisposeAsync();
    }

    [Fact]
    public async Task A_clock_a_year_ahead_does_not_make_the_acme_loop_order_a_certificate_a_second()
    {
        var clock = new WallClock();
        var log = new LogCapture();
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        // 10-minute certificates: renewal due after 400 s of real time, at once a year ahead.
        using var pebble = PebbleServer.Start(http, https, validitySeconds: 600);
        await using var ca = await FaultyCa.StartAsync(pebble);
        string state = Directory.CreateTempSubdirectory("oa-clock-acme-").FullName;
        try
        {
            await using var appliance = await TestAppliance.StartAsync(o =>
            {
                o.UseTestCa(state, http, https, ca.DirectoryUrl, pebble.TrustedRootsFile, "clock.test");
            }, services: s =>
            {
                s.AddSingleton<TimeProvider>(clock);
                // Looks every 500 ms: a loop that orders whenever it looks would order ~10 times below.
                s.AddSingleton(new AcmeSchedule(TimeSpan.FromMilliseconds(500), RenewalPolicy.Backoff));
                log.Register(s);
            });
            var service = appliance.Services.GetRequiredService<AcmeCertificateService>();
            var first = await Eventually.ValueAsync(() => service.Issued, "the first certificate", TimeSpan.FromSeconds(60));

            // A year ahead: the certificate looks expired; it is renewed, and the new one looks expired too.
            clock.Offset = TimeSpan.FromDays(365);
            try
            {
                await Eventually.TrueAsync(() => service.Issued?.Leaf.SerialNumber != first.Leaf.SerialNumber, "a renewal", TimeSpan.FromSeconds(30));
            }
            catch
            {
                output.WriteLine(string.Join("\n", log.Lines.Where(l => l.Contains("ACME", StringComparison.Ordinal))));
                output.WriteLine(string.Join("\n", ca.Requests.Select(r => $"{r.At} {r.Method} {r.Path} {r.Status}")));
                throw;
            }
            int orders = Orders(ca);
            await Task.Delay(5000);
            output.WriteLine($"orders in the 5 s after the renewal with the clock a year ahead: {Orders(ca) - orders}");
            Assert.True(Orders(ca) - orders <= 1, $"{Orders(ca) - orders} orders in 5 s with the clock a year ahead");
            Assert.Contains(log.Lines, l => l.Contains("the system clock", StringComparison.Ordinal));

            // Back to the right time: nothing more to order, the certificate served.
            clock.Offset = TimeSpan.Zero;
            orders = Orders(ca);
            await Task.Delay(2000);
            Assert.Equal(orders, Orders(ca));
        }
        finally
        {
            try { Directory.Delete(state, recursive: true); } catch (IOException) { }
        }
    }

    private static int Orders(FaultyCa ca) => ca.Requests.Count(r => r.Path.EndsWith("/order-plz", StringComparison.Ordinal));

    [GeneratedRegex("\"seq\": (-?\\d+)")]
    private static partial Regex SeqField();
}
