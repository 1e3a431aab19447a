using System.Diagnostics;
using System.Globalization;
using System.Net;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// Two sites on one executable (docs/reliability.md, "One site's source dead"): alpha's broker
/// adapter streams 1,000 numbered ticks a second to three clients while beta's publisher is killed
/// (SIGKILL) with beta's client subscribed. Alpha's clients lose nothing and are never disconnected;
/// <c>/healthz</c> answers 503 naming beta's bus and only it, and <c>status</c>, typed bare, says the
/// same and exits 1; a new publisher on beta's bus reaches beta's client and both views turn healthy
/// again. Latency per phase and the detection and recovery times go to the test output.
/// </summary>
public sealed class SiteSourceFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-site-fault-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task One_sites_publisher_killed_leaves_the_other_site_whole_and_is_named_by_healthz_and_status()
    {
        int alphaInternal = TestAppliance.FreeTcpPort(), betaInternal = TestAppliance.FreeTcpPort(), admin = TestAppliance.FreeTcpPort();
        string alphaBus = $"tcp://127.0.0.1:{TestAppliance.FreeTcpPort()}", betaBus = $"tcp://127.0.0.1:{TestAppliance.FreeTcpPort()}";
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), $$"""
            {
              "Appliance": {
                "Listen": { "Https": "127.0.0.1:{{TestAppliance.FreeTcpPort()}}", "Http": "" },
                "StateDirectory": "{{Path.Combine(_dir, "state")}}",
                "LogsDirectory": "{{Path.Combine(_dir, "logs")}}",
                "Limits": { "PingIntervalSeconds": 0 },
                "Sites": {
                  "alpha": {
                    "Tls": { "Mode": "SelfSigned", "Domains": [ "alpha.test" ] },
                    "Listen": { "Internal": "127.0.0.1:{{alphaInternal}}" },
                    "MarketData": { "Source": "Zmq", "ZmqEndpoint": "{{alphaBus}}" },
                    "Auth": { "StaticKeys": [ { "Key": "alpha-key", "UserId": "alice", "Broker": "zerodha" } ] }
                  },
                  "beta": {
                    "Tls": { "Mode": "SelfSigned", "Domains": [ "beta.test" ] },
                    "Listen": { "Internal": "127.0.0.1:{{betaInternal}}" },
                    "MarketData": { "Source": "Zmq", "ZmqEndpoint": "{{betaBus}}" },
                    "Auth": { "StaticKeys": [ { "Key": "beta-key", "UserId": "bob", "Broker": "dhan" } ] }
                  }
                }
              }
            }
            """);
        var adminOn = new Dictionary<string, string> { ["Appliance__Listen__Admin"] = $"127.0.0.1:{admin}" };
        using var appliance = ApplianceProcess.Start(_dir, adminOn, "run");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var adminUri = new Uri($"http://127.0.0.1:{admin}/");
        await Eventually.SucceedsAsync(async () => (await http.GetAsync(new Uri(adminUri, "metrics"))).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(60));

        var alpha = new List<TickRecorder>();
        TickRecorder? beta = null;
        Process? alphaPublisher = null, betaPublisher = null;
        try
        {
            for (int i = 0; i < 3; i++) alpha.Add(await SubscribedAsync(alphaInternal, "alpha-key", "ALPHA", "warm-up"));
            beta = await SubscribedAsync(betaInternal, "beta-key", "BETA", "warm-up");
            alphaPublisher = BusPublisherFaultTests.StartPublisher(alphaBus, "NSE_ALPHA_LTP", 0, 1000);
            betaPublisher = BusPublisherFaultTests.StartPublisher(betaBus, "NSE_BETA_LTP", 0, 200);
            await Eventually.TrueAsync(() => alpha.All(r => r.Count > 0) && beta.Count > 0, "both sites' clients ticked", TimeSpan.FromSeconds(30));
            Assert.Equal("ok\n", await http.GetStringAsync(new Uri(adminUri, "healthz")));
            await Task.Delay(1000); // the ticks a new publisher queued before ZeroMQ connected arrive late
            foreach (var r in alpha) r.Phase = "before";
            await Task.Delay(3000);

            // Beta's broker adapter dies; alpha streams on.
            foreach (var r in alpha) r.Phase = "beta dead";
            var killed = Stopwatch.StartNew();
            betaPublisher.Kill(entireProcessTree: true);
            betaPublisher.WaitForExit(10_000);
            long betaLast = beta.Last;
            string health = "";
            HttpStatusCode code = 0;
            await Eventually.SucceedsAsync(async () =>
            {
                using var response = await http.GetAsync(new Uri(adminUri, "healthz"));
                (code, health) = (response.StatusCode, await response.Content.ReadAsStringAsync());
                Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
            }, TimeSpan.FromSeconds(60));
            var detected = killed.Elapsed;
            Assert.Equal($"site beta: source down: ZeroMQ bus {betaBus}: no publisher connected while 1 subscription waits for ticks (for 11 s; is the broker adapter or OpenAlgo running?)\n",
                System.Text.RegularExpressions.Regex.Replace(health, @"for \d+ s;", "for 11 s;"));
            Assert.DoesNotContain("alpha", health);

            using (var status = ApplianceProcess.Start(_dir, adminOn, "status"))
            {
                int exit = await status.WaitForExitAsync(TimeSpan.FromSeconds(60));
                string text = status.Stdout;
                Assert.True(exit == 1, text + status.Stderr);
                Assert.Contains("site alpha: healthy", text);
                Assert.Matches($@"site beta: UNHEALTHY\n  Problem:       source down: ZeroMQ bus {System.Text.RegularExpressions.Regex.Escape(betaBus)}: no publisher connected while 1 subscription waits for ticks \(for \d+ s;", text);
            }
            await Task.Delay(2000);

            // A new publisher on beta's bus (systemd restarted OpenAlgo): beta ticks again, all healthy.
            foreach (var r in alpha) r.Phase = "after";
            beta.ExpectRestartAt(1_000_000);
            var restarted = Stopwatch.StartNew();
            betaPublisher.Dispose();
            betaPublisher = BusPublisherFaultTests.StartPublisher(betaBus, "NSE_BETA_LTP", 1_000_000, 200);
            await Eventually.TrueAsync(() => beta.Last >= 1_000_000, "beta's client ticked by the new publisher", TimeSpan.FromSeconds(30));
            var betaBack = restarted.Elapsed;
            await Eventually.SucceedsAsync(async () => Assert.Equal("ok\n", await http.GetStringAsync(new Uri(adminUri, "healthz"))), TimeSpan.FromSeconds(30));
            var healthyBack = restarted.Elapsed;
            await Task.Delay(2000);

            foreach (var r in alpha.Append(beta)) await r.StopAsync();
            output.WriteLine($"beta's publisher killed: /healthz 503 after {detected.TotalSeconds:0.0} s (limit {10} s); beta's last tick before: {betaLast}");
            output.WriteLine($"beta's publisher restarted: first tick at beta's client {betaBack.TotalMilliseconds:0} ms, /healthz ok {healthyBack.TotalMilliseconds:0} ms after");
            foreach (string phase in new[] { "before", "beta dead", "after" })
            {
                var all = alpha.Select(r => r.Latency(phase)).ToList();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"alpha ({phase}): {all.Sum(l => l.Count)} ticks at 3 clients, latency p50 {all.Average(l => l.P50):0.00} ms, p99 {all.Max(l => l.P99):0.00} ms, max {all.Max(l => l.Max):0.0} ms"));
            }

            // Alpha's clients: every tick, in order, never disconnected, through all three phases.
            foreach (var r in alpha)
            {
                Assert.Null(r.Ended);
                Assert.Empty(r.Gaps);
                Assert.True(r.Latency("beta dead").Count > 5000, $"alpha client got {r.Latency("beta dead").Count} ticks while beta was dead");
            }
            Assert.Null(beta.Ended);
            Assert.Empty(beta.Gaps);
            string log = File.ReadAllText(Directory.GetFiles(Path.Combine(_dir, "logs")).Single());
            Assert.DoesNotContain("[ERR]", log);
            Assert.DoesNotContain("[FTL]", log);
        }
        finally
        {
            foreach (var p in new[] { alphaPublisher, betaPublisher })
            {
                if (p is null) continue;
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                p.Dispose();
            }
            foreach (var r in alpha) await r.DisposeAsync();
            if (beta is not null) await beta.DisposeAsync();
            appliance.Terminate();
            await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task<TickRecorder> SubscribedAsync(int port, string key, string symbol, string phase)
    {
        var client = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.AuthenticateAsync(key);
        await client.AskAsync(TestSites.Subscribe(symbol));
        return new TickRecorder(client, phase);
    }
}
