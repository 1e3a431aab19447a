using System.Net;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.Proxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Sites;

/// <summary>
/// Three OpenAlgo instances behind one appliance, each with its real Flask-SocketIO app and its
/// own feed — two on their ZeroMQ buses, one through its own OpenAlgo proxy (a second appliance
/// standing in for it) — and what happens to the others when one instance's upstreams go away.
/// </summary>
public sealed class ThreeSiteTests
{
    [Fact]
    public async Task Each_site_reaches_its_own_flask_app_and_feed_and_one_instance_going_down_touches_only_its_site()
    {
        using var flaskAlpha = await FlaskApp.StartTcpAsync();
        using var flaskBeta = await FlaskApp.StartTcpAsync();
        using var flaskGamma = await FlaskApp.StartTcpAsync();
        int betaProxy = TestAppliance.FreeTcpPort();
        var betaOrigin = await TestAppliance.StartAsync(o => o.Listen.Internal = $"127.0.0.1:{betaProxy}");
        try
        {
            var log = new LogCapture();
            await using var appliance = await TestAppliance.StartAsync(o =>
            {
                o.Sites.Add(TestSites.New("alpha", "alpha.test", "alpha-key", "alice", s => s.Proxy.Upstream = flaskAlpha.Upstream));
                o.Sites.Add(TestSites.New("beta", "beta.test", "unused", "bob", s =>
                {
                    s.Proxy.Upstream = flaskBeta.Upstream;
                    s.MarketData.Source = MarketDataSourceKind.OpenAlgo;
                    s.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{betaProxy}";
                    s.Auth.Mode = AuthMode.Upstream;
                }));
                o.Sites.Add(TestSites.New("gamma", "gamma.test", "gamma-key", "carol", s => s.Proxy.Upstream = flaskGamma.Upstream));
            }, services: log.Register);
            using var http = LoopbackNames.Http();
            int port = appliance.Https.Port;

            // Each site's pages come from its own Flask app.
            foreach (var name in new[] { "alpha", "beta", "gamma" })
            {
                var page = await http.GetAsync($"https://{name}.test:{port}/hello");
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal("flask:/hello", await page.Content.ReadAsStringAsync());
            }
            flaskBeta.Stop();
            Assert.Equal(HttpStatusCode.BadGateway, (await http.GetAsync($"https://beta.test:{port}/hello")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"https://alpha.test:{port}/hello")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"https://gamma.test:{port}/hello")).StatusCode);
            Assert.Contains(log.Lines, l => l.Contains("[beta] Flask app", StringComparison.Ordinal));
            Assert.DoesNotContain(log.Lines, l => l.Contains("[alpha] Flask app", StringComparison.Ordinal) || l.Contains("[gamma] Flask app", StringComparison.Ordinal));

            // Each site's clients get their own feed.
            using var dial = new HttpMessageInvoker(LoopbackNames.Handler());
            await using var alpha = await WsTestClient.ConnectAsync(appliance.PublicUriFor("alpha.test"), dial);
            await alpha.AskAsync(TestSites.Authenticate("alpha-key"));
            await alpha.AskAsync(TestSites.Subscribe("SBIN"));
            await using var beta = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
            Assert.Contains("\"status\": \"success\"", await beta.AskAsync(TestSites.Authenticate("testkey"))); // judged by beta's OpenAlgo proxy
            await beta.AskAsync(TestSites.Subscribe("SBIN"));
            await using var gamma = await WsTestClient.ConnectAsync(appliance.PublicUriFor("gamma.test"), dial);
            await gamma.AskAsync(TestSites.Authenticate("gamma-key"));
            await gamma.AskAsync(TestSites.Subscribe("SBIN"));
            using var alphaBus = new BusPublisher(appliance.Site("alpha").Options.MarketData.ZmqEndpoint);
            using var betaBus = new BusPublisher(betaOrigin.ZmqEndpoint);
            using var gammaBus = new BusPublisher(appliance.Site("gamma").Options.MarketData.ZmqEndpoint);
            Assert.Contains("\"ltp\": 1", await alphaBus.PublishUntilReceivedAsync(alpha, "NSE_SBIN_LTP", "{\"ltp\": 1}"));
            Assert.Contains("\"ltp\": 2", await betaBus.PublishUntilReceivedAsync(beta, "NSE_SBIN_LTP", "{\"ltp\": 2}"));
            Assert.Contains("\"ltp\": 3", await gammaBus.PublishUntilReceivedAsync(gamma, "NSE_SBIN_LTP", "{\"ltp\": 3}"));
            Assert.Equal(1, appliance.Site("alpha").Hub.ClientCount);

            // Beta's OpenAlgo goes down: beta's session is lost (its client stays connected and waits),
            // alpha and gamma keep streaming.
            await betaOrigin.DisposeAsync();
            await Eventually.TrueAsync(() => log.Lines.Any(l => l.Contains("[beta] OpenAlgo proxy session", StringComparison.Ordinal) && l.Contains("lost its connection", StringComparison.Ordinal)), "beta's proxy session reports the loss");
            await DrainAsync(alpha);
            await DrainAsync(gamma);
            alphaBus.Publish("NSE_SBIN_LTP", "{\"ltp\": 11}");
            gammaBus.Publish("NSE_SBIN_LTP", "{\"ltp\": 33}");
            Assert.Contains("\"ltp\": 11", await alpha.ReceiveAsync());
            Assert.Contains("\"ltp\": 33", await gamma.ReceiveAsync());
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, beta.State);
            Assert.DoesNotContain(log.Lines, l => l.Contains("lost its connection", StringComparison.Ordinal) && !l.Contains("[beta]", StringComparison.Ordinal));
        }
        finally
        {
            await betaOrigin.DisposeAsync();
        }
    }

    private static async Task DrainAsync(WsTestClient client)
    {
        try
        {
            while (true) await client.ReceiveAsync(TimeSpan.FromMilliseconds(300));
        }
        catch (TimeoutException)
        {
        }
    }
}
