using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// <c>systemctl reload</c> (SIGHUP) 100 times in a row through the real executable while 20 clients —
/// half on <c>/ws</c> over TLS, half on the internal listener — receive 200 numbered ticks a second
/// (docs/reliability.md, "SIGHUP under load"). Every other reload changes a limit (applied in
/// place). No client is dropped, none misses or reorders a tick, every reload ends in READY=1.
/// </summary>
public sealed partial class ReloadUnderLoadTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-reload-load-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static string Config(int zmq, int maxClients) => $$"""
        { "Appliance": {
            "MarketData": { "Source": "Zmq", "ZmqEndpoint": "tcp://127.0.0.1:{{zmq}}" },
            "Auth": { "StaticKeys": [ { "Key": "reload-key", "UserId": "trader", "Broker": "fakebroker" } ] },
            "Limits": { "MaxClients": {{maxClients}}, "PingIntervalSeconds": 5 } } }
        """;

    [Fact]
    public async Task A_hundred_reloads_under_ticks_drop_no_client_and_lose_no_tick()
    {
        int https = TestAppliance.FreeTcpPort(), @internal = TestAppliance.FreeTcpPort(), zmq = TestAppliance.FreeTcpPort();
        string config = Path.Combine(_dir, "appsettings.json");
        File.WriteAllText(config, Config(zmq, 1000));
        using var notify = new NotifySocket(@abstract: true);
        using var appliance = ApplianceProcess.Start(_dir, new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{@internal}",
            ["Appliance__StateDirectory"] = Path.Combine(_dir, "state"),
            ["Appliance__LogsDirectory"] = Path.Combine(_dir, "logs"),
        }, "run", "--config", config);
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));

        var clients = new List<WsTestClient>();
        for (int i = 0; i < 20; i++)
        {
            var client = await WsTestClient.ConnectAsync(new Uri(i % 2 == 0 ? $"wss://127.0.0.1:{https}/ws" : $"ws://127.0.0.1:{@internal}/"));
            await client.AskAsync(TestSites.Authenticate("reload-key"));
            await client.AskAsync(TestSites.Subscribe("HUP"));
            clients.Add(client);
        }
        using var bus = new BusPublisher($"tcp://127.0.0.1:{zmq}");
        foreach (var client in clients) await bus.PublishUntilReceivedAsync(client, "NSE_HUP_LTP", "{\"ltp\": 1, \"seq\": -1}");

        using var stop = new CancellationTokenSource();
        int published = 0;
        var publishing = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                while (published < clock.Elapsed.TotalSeconds * 200) bus.Publish("NSE_HUP_LTP", $"{{\"ltp\": 2, \"seq\": {published++}}}");
                await Task.Delay(5, CancellationToken.None);
            }
        });
        var progress = new int[clients.Count];
        using var done = new CancellationTokenSource();
        var readers = clients.Select((client, index) => Task.Run(async () =>
        {
            int silent = 0;
            while (true)
            {
                string message;
                try
                {
                    message = await client.ReceiveAsync(TimeSpan.FromSeconds(1));
                    silent = 0;
                }
                catch (TimeoutException)
                {
                    if (done.IsCancellationRequested) return "ok";
                    if (++silent == 30) return "silent for 30 s";
                    continue;
                }
                catch (WebSocketException ex)
                {
                    return $"dropped: {ex.Message}";
                }
                int seq = int.Parse(SeqField().Match(message).Groups[1].Value, CultureInfo.InvariantCulture);
                if (seq < 0) continue; // late copies of the warm-up tick
                if (seq != progress[index]) return $"tick {seq} after {progress[index] - 1}";
                Volatile.Write(ref progress[index], seq + 1);
            }
        })).ToList();

        var reloads = new List<TimeSpan>();
        for (int i = 0; i < 100; i++)
        {
            // Every other reload changes a limit (in place); the rest re-read an unchanged file.
            if (i % 2 == 0) File.WriteAllText(config, Config(zmq, 1000 + i));
            notify.Clear();
            var watch = Stopwatch.StartNew();
            Process.Start("kill", ["-HUP", appliance.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
            reloads.Add(watch.Elapsed);
            await Task.Delay(50);
        }
        await Task.Delay(500);
        await stop.CancelAsync();
        await publishing;
        await Eventually.TrueAsync(() => progress.All(p => Volatile.Read(ref p) == published) || readers.Any(r => r.IsCompleted), "every tick at every client", TimeSpan.FromSeconds(60));
        await done.CancelAsync();
        var outcomes = await Task.WhenAll(readers);

        var sorted = reloads.OrderBy(r => r).ToList();
        output.WriteLine($"100 reloads: SIGHUP → READY=1 median {sorted[50].TotalMilliseconds:0} ms, max {sorted[^1].TotalMilliseconds:0} ms; {published} ticks to each of 20 clients");
        Assert.All(outcomes, outcome => Assert.Equal("ok", outcome));
        Assert.All(progress, received => Assert.Equal(published, received));
        Assert.False(appliance.HasExited);
        string log = File.ReadAllText(Directory.GetFiles(Path.Combine(_dir, "logs")).Single());
        Assert.Equal(100, Regex.Matches(log, "Configuration reloaded").Count);
        Assert.DoesNotContain("[ERR]", log);
        foreach (var client in clients) await client.DisposeAsync();
        appliance.Terminate();
        Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [GeneratedRegex("\"seq\": (-?\\d+)")]
    private static partial Regex SeqField();
}
