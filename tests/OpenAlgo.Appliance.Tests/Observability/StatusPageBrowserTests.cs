using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// The live status page in headless Chromium, reached the way the docs say (http://localhost:9765/
/// through ssh -L), with two sites: one card each, every panel rendered, each site's charts moving
/// once a second from its own feed, nothing asked of any other origin. The screenshot goes to
/// <c>artifacts/observability/status-page.png</c> (docs/images/status-page.png is a copy).
/// </summary>
public sealed class StatusPageBrowserTests
{
    [Fact]
    public async Task The_status_page_shows_each_site_and_their_charts_move_while_feeds_run()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Sites.Add(TestSites.New("alpha", "trade.example.com", "alpha-key", "alice",
                s => s.Auth.StaticKeys.Add(new OpenAlgo.Appliance.Configuration.StaticKeyOptions { Key = "carol-key", UserId = "carol", Broker = "fakebroker" })));
            o.Sites.Add(TestSites.New("beta", "family.example.com", "beta-key", "bob"));
        });
        using var dial = new HttpMessageInvoker(LoopbackNames.Handler());
        await using var wss = await WsTestClient.ConnectAsync(appliance.PublicUriFor("trade.example.com"), dial);
        await using var sdk = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
        await using var family = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
        await wss.AskAsync(TestSites.Authenticate("alpha-key"));
        await sdk.AskAsync(TestSites.Authenticate("alpha-key"));
        await other.AskAsync(TestSites.Authenticate("carol-key"));
        await family.AskAsync(TestSites.Authenticate("beta-key"));
        string[] symbols = ["RELIANCE", "TCS", "INFY", "HDFCBANK", "SBIN", "ITC"];
        string list = string.Join(", ", symbols.Select(s => $"{{\"symbol\": \"{s}\", \"exchange\": \"NSE\"}}"));
        await wss.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": [{list}], \"mode\": 2}}");
        await sdk.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": [{list}], \"mode\": 1}}");
        await other.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"NIFTY\", \"exchange\": \"NSE_INDEX\"}], \"mode\": 3}");
        await family.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": [{list}], \"mode\": 1}}");
        using var alphaBus = new BusPublisher(appliance.Site("alpha").Options.MarketData.ZmqEndpoint);
        using var betaBus = new BusPublisher(appliance.Site("beta").Options.MarketData.ZmqEndpoint);
        await alphaBus.PublishUntilReceivedAsync(wss, "NSE_RELIANCE_QUOTE", "{\"ltp\": 2900.5}");
        await betaBus.PublishUntilReceivedAsync(family, "NSE_RELIANCE_LTP", "{\"ltp\": 2900.5}");

        using var feeding = new CancellationTokenSource();
        var feed = Task.Run(async () =>
        {
            var random = new Random(7);
            for (int i = 0; !feeding.IsCancellationRequested; i++)
            {
                // A burst every few seconds so the charts have a shape, not a flat line; the family site is quieter.
                int perTick = i % 40 < 10 ? 6 : 2;
                for (int k = 0; k < perTick; k++)
                {
                    string symbol = symbols[random.Next(symbols.Length)];
                    alphaBus.Publish($"NSE_{symbol}_QUOTE", $"{{\"ltp\": {1000 + random.Next(2000)}.5, \"volume\": {random.Next(100000)}}}");
                }
                if (i % 3 == 0) betaBus.Publish($"NSE_{symbols[random.Next(symbols.Length)]}_LTP", $"{{\"ltp\": {1000 + random.Next(2000)}.5}}");
                if (i % 5 == 0) alphaBus.Publish("NSE_INDEX_NIFTY_DEPTH", "{\"ltp\": 24500.5, \"depth\": {\"buy\": [], \"sell\": []}}");
                await Task.Delay(20);
            }
        });

        await using var browser = await Chromium.StartAsync("MAP app.test 127.0.0.1");
        var page = await browser.NewPageAsync();
        await page.SetViewportAsync(1400, 1300);
        string origin = $"http://localhost:{appliance.Admin!.Port}";
        await page.NavigateAsync(origin + "/");
        try
        {
            await page.WaitForAsync("[...document.querySelectorAll('.site h2')].map(h => h.textContent).join() === 'alpha,beta' ? true : null", TimeSpan.FromSeconds(20));
            foreach (var site in new[] { "alpha", "beta" })
            {
                // Charts move: each site's history grows once a second from the event stream and its canvas changes.
                string chart = $"[...document.querySelectorAll('.site')].find(e => e.querySelector('h2').textContent === '{site}').querySelector('[data-chart=\"ticks\"]')";
                var first = await page.WaitForAsync($"(() => {{ const h = sites.get('{site}').history; return h.length >= 3 && h[h.length - 1].ticksPerSecond > 0 ? {{ n: h.length, png: {chart}.toDataURL() }} : null }})()", TimeSpan.FromSeconds(30));
                await page.WaitForAsync($"sites.get('{site}').history.length >= {first["n"]!.GetValue<int>() + 3} ? true : null", TimeSpan.FromSeconds(20));
                string png = (await page.EvaluateAsync($"{chart}.toDataURL()"))!.GetValue<string>();
                Assert.NotEqual(first["png"]!.GetValue<string>(), png);
                await page.WaitForAsync($"(() => {{ const h = sites.get('{site}').history; return h.filter(p => p.p99Seconds !== null).length >= 2 ? true : null }})()", TimeSpan.FromSeconds(20));
            }

            string text = (await page.EvaluateAsync("document.body.innerText"))!.GetValue<string>();
            Assert.Contains("All healthy", text);
            Assert.Contains("2 sites", text);
            Assert.Contains($"trade.example.com · internal {appliance.InternalUriOf("alpha").Authority}", text);
            Assert.Contains($"family.example.com · internal {appliance.InternalUriOf("beta").Authority}", text);
            Assert.Contains("days left", text);
            Assert.Contains("alice", text);                       // clients by user, per site
            Assert.Contains("carol", text);
            Assert.Contains("bob", text);
            Assert.Contains("Zmq", text);                         // the source
            async Task<string> ClientsAsync(string site) => (await page.EvaluateAsync($"[...document.querySelectorAll('.site')].find(e => e.querySelector('h2').textContent === '{site}').querySelector('[data-k=\"clients\"]').firstChild.textContent"))!.GetValue<string>();
            Assert.Equal("3", await ClientsAsync("alpha"));
            Assert.Equal("1", await ClientsAsync("beta"));
            // Self-contained: every response came from the admin listener itself.
            Assert.All(page.Responses, r => Assert.StartsWith(origin + "/", r.Url));
            Assert.Contains(page.Responses, r => r.Url == origin + "/events");
            // Twenty seconds of history, so the screenshot shows the charts' shape.
            await page.WaitForAsync("sites.get('alpha').history.length >= 20 ? true : null", TimeSpan.FromSeconds(40));
        }
        finally
        {
            await page.ScreenshotAsync(Path.Combine(Processes.RepositoryRoot(), "artifacts", "observability", "status-page.png"));
            feeding.Cancel();
            await feed;
        }
    }
}
