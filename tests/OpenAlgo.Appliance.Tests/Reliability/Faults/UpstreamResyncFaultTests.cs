using System.Diagnostics;
using System.Net.WebSockets;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// OpenAlgo's proxy dying while the appliance resynchronises with it (docs/reliability.md, "OpenAlgo's
/// proxy killed during resync"): after a first death, the proxy dies again at each step of the
/// appliance's reconnect — the WebSocket handshake, the authenticate reply, the subscribe reply —
/// every connection reset, new ones refused for half a second. The client on the appliance stays
/// connected throughout and gets ticks again each time; the time from the proxy's return to the
/// first tick is recorded.
/// </summary>
public sealed class UpstreamResyncFaultTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("HTTP/1.1 101")]
    [InlineData("\"type\": \"auth\"")]
    [InlineData("\"type\": \"subscribe\"")]
    public async Task Killed_again_at_a_step_of_the_resync_the_proxy_is_resynchronised_when_it_returns_and_the_client_never_notices(string step)
    {
        int originPort = TestAppliance.FreeTcpPort();
        await using var origin = await TestAppliance.StartAsync(o => o.Listen.Internal = $"127.0.0.1:{originPort}");
        await using var link = new FaultyLink(originPort);
        var log = new LogCapture();
        await using var front = await TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{link.Port}";
            o.MarketData.SupportedBrokers = "";
        }, source: "OpenAlgo", services: log.Register);
        await using var client = await WsTestClient.ConnectAsync(front.PublicUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RESYNC\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        using var bus = new BusPublisher(origin.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(client, "NSE_RESYNC_LTP", "{\"ltp\": 1.0}");

        // First death; the appliance reconnects and is killed again at the chosen step.
        var secondDeath = link.KillWhenServerSends(step, TimeSpan.FromMilliseconds(500));
        link.Kill(TimeSpan.FromMilliseconds(300));
        await secondDeath.WaitAsync(TimeSpan.FromSeconds(30));
        var back = Stopwatch.StartNew();
        // Back after 500 ms: the next reconnect resynchronises (authenticate, subscribe), ticks flow again.
        await Eventually.TrueAsync(() => origin.Hub.Sessions.Any(s => s.Subscriptions.Count > 0), "resubscribed on the proxy", TimeSpan.FromSeconds(30));
        string tick;
        do
        {
            tick = await bus.PublishUntilReceivedAsync(client, "NSE_RESYNC_LTP", "{\"ltp\": 2.0}");
        }
        while (!tick.Contains("2.0", StringComparison.Ordinal));
        output.WriteLine($"killed again at '{step}': first tick {back.Elapsed.TotalMilliseconds:0} ms after the kill (500 ms of it down)");
        Assert.Equal(WebSocketState.Open, client.State);
        Assert.Equal(1, front.Hub.ClientCount);
        Assert.True(log.Problems.Count == 0, string.Join("\n", log.Problems.Take(5)));
    }
}
