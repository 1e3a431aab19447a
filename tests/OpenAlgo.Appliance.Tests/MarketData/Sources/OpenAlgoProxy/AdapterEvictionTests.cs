using OpenAlgo.Appliance.Configuration;
using System.Diagnostics;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// OpenAlgo deletes a user's broker adapter on cache invalidation (every broker login, spec §6.5) and
/// its connected clients silently get nothing more. The upstream here is adapter_eviction_proxy.py,
/// which plays exactly that (OpenAlgo's real proxy needs broker accounts).
/// </summary>
public sealed class AdapterEvictionTests
{
    [Fact]
    public async Task A_silent_feed_whose_adapter_OpenAlgo_dropped_is_restored_without_the_clients_doing_anything()
    {
        int port = TestAppliance.FreeTcpPort();
        using var upstream = StartProxy(port);
        try
        {
            await using var front = await TestAppliance.StartAsync(o =>
            {
                o.Auth.Mode = AuthMode.Upstream;
                o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{port}";
            }, source: "OpenAlgo", services: s => s.AddSingleton(sp => new OpenAlgoProxySource(new Uri($"ws://127.0.0.1:{port}"),
                sp.GetRequiredService<MarketDataHub>(), sp.GetRequiredService<ILoggerFactory>()) { AdapterCheckInterval = TimeSpan.FromMilliseconds(500) }));
            await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
            await using var control = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
            await client.AuthenticateAsync();
            await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 1}");
            const string tick = "{\"control\": \"tick\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"ltp\": 1.5}";
            await control.AskAsync(tick);
            Assert.Contains("\"ltp\": 1.5", await client.ReceiveAsync());

            // OpenAlgo's cache invalidation: the adapter is gone, the routing stays, ticks stop.
            await control.AskAsync("{\"control\": \"evict\"}");
            await control.AskAsync(tick);
            await client.AssertSilentAsync(TimeSpan.FromMilliseconds(200));

            // The front notices the silence, finds the adapter gone, authenticates again and resubscribes.
            string? resumed = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (resumed is null && DateTime.UtcNow < deadline)
            {
                await control.AskAsync("{\"control\": \"tick\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"ltp\": 2.5}");
                try { resumed = await client.ReceiveAsync(TimeSpan.FromMilliseconds(200)); } catch (TimeoutException) { }
            }
            Assert.NotNull(resumed);
            Assert.StartsWith("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {\"ltp\": 2.5, \"timestamp\": ", resumed);
            string stats = await control.AskAsync("{\"control\": \"stats\"}");
            Assert.Contains("\"auths\": 2", stats); // the client's, then the front's own after the eviction
            Assert.Contains("\"adapter\": true", stats);
            var session = front.Services.GetRequiredService<OpenAlgoProxySource>().SessionOf(Assert.Single(front.Hub.Sessions))!;
            Assert.Equal(1, session.AdapterRestores);
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, client.State);
        }
        finally
        {
            upstream.Kill();
            upstream.WaitForExit(5000);
        }
    }

    private static Process StartProxy(int port)
    {
        var start = new ProcessStartInfo(Python.Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MarketData", "Sources", "OpenAlgoProxy", "adapter_eviction_proxy.py"));
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(start)!;
        string? line = process.StandardOutput.ReadLine();
        if (line?.StartsWith("LISTENING ", StringComparison.Ordinal) != true)
        {
            process.Kill();
            throw new InvalidOperationException("adapter_eviction_proxy.py did not start: " + process.StandardError.ReadToEnd());
        }
        return process;
    }
}
