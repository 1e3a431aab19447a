using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// The live status page in headless Chromium, reached the way the docs say (http://localhost:9765/
/// through ssh -L): it renders every panel, its charts move once a second while a feed runs, it asks
/// nothing of any other origin. The screenshot goes to <c>artifacts/observability/status-page.png</c>.
/// </summary>
public sealed class StatusPageBrowserTests
{
    [Fact]
    public async Task The_status_page_shows_the_site_and_its_charts_move_while_a_feed_runs()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Tls.Domains = ["trade.example.com"]);
        await using var wss = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await using var sdk = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await wss.AuthenticateAsync("testkey");
        await sdk.AuthenticateAsync("testkey");
        await other.AuthenticateAsync("otherkey");
        string[] symbols = ["RELIANCE", "TCS", "INFY", "HDFCBANK", "SBIN", "ITC"];
        string list = string.Join(", ", symbols.Select(s => $"{{\"symbol\": \"{s}\", \"exchange\": \"NSE\"}}"));
        await wss.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": [{list}], \"mode\": 2}}");
        await sdk.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": [{list}], \"mode\": 1}}");
        await other.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"NIFTY\", \"exchange\": \"NSE_INDEX\"}], \"mode\": 3}");
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(wss, "NSE_RELIANCE_QUOTE", "{\"ltp\": 2900.5}");

        using var feeding = new CancellationTokenSource();
        var feed = Task.Run(async () =>
        {
            var random = new Random(7);
            for (int i = 0; !feeding.IsCancellationRequested; i++)
            {
                // A burst every few seconds so the charts have a shape, not a flat line.
                int perTick = i % 40 < 10 ? 6 : 2;
                for (int k = 0; k < perTick; k++)
                {
                    string symbol = symbols[random.Next(symbols.Length)];
                    bus.Publish($"NSE_{symbol}_QUOTE", $"{{\"ltp\": {1000 + random.Next(2000)}.5, \"volume\": {random.Next(100000)}}}");
                }
                if (i % 5 == 0) bus.Publish("NSE_INDEX_NIFTY_DEPTH", "{\"ltp\": 24500.5, \"depth\": {\"buy\": [], \"sell\": []}}");
                await Task.Delay(20);
            }
        });

        await using var browser = await Chromium.StartAsync("MAP app.test 127.0.0.1");
        var page = await browser.NewPageAsync();
        await page.SetViewportAsync(1400, 900);
        string origin = $"http://localhost:{appliance.Admin!.Port}";
        await page.NavigateAsync(origin + "/");
        try
        {
            await page.WaitForAsync("document.querySelector('.site h2')?.textContent === 'default' ? true : null", TimeSpan.FromSeconds(20));
            // Charts move: the history grows once a second from the event stream and the canvas changes.
            var first = await page.WaitForAsync("(() => { const h = sites.get('default').history; return h.length >= 3 && h[h.length - 1].ticksPerSecond > 0 ? { n: h.length, png: document.querySelector('[data-chart=\"ticks\"]').toDataURL() } : null })()", TimeSpan.FromSeconds(30));
            await page.WaitForAsync($"sites.get('default').history.length >= {first["n"]!.GetValue<int>() + 3} ? true : null", TimeSpan.FromSeconds(20));
            string png = (await page.EvaluateAsync("document.querySelector('[data-chart=\"ticks\"]').toDataURL()"))!.GetValue<string>();
            Assert.NotEqual(first["png"]!.GetValue<string>(), png);
            await page.WaitForAsync("(() => { const h = sites.get('default').history; return h.filter(p => p.p99Seconds !== null).length >= 2 ? true : null })()", TimeSpan.FromSeconds(20));

            string text = (await page.EvaluateAsync("document.body.innerText"))!.GetValue<string>();
            Assert.Contains("All healthy", text);
            Assert.Contains("trade.example.com", text);           // certificate names
            Assert.Contains("days left", text);
            Assert.Contains("testuser", text);                    // clients by user
            Assert.Contains("otheruser", text);
            Assert.Contains("Zmq", text);                         // the source
            Assert.Contains("up", text);
            Assert.Equal("3", (await page.EvaluateAsync("document.querySelector('[data-k=\"clients\"]').firstChild.textContent"))!.GetValue<string>());
            // Self-contained: every response came from the admin listener itself.
            Assert.All(page.Responses, r => Assert.StartsWith(origin + "/", r.Url));
            Assert.Contains(page.Responses, r => r.Url == origin + "/events");
            // Twenty seconds of history, so the screenshot shows the charts' shape.
            await page.WaitForAsync("sites.get('default').history.length >= 20 ? true : null", TimeSpan.FromSeconds(40));
        }
        finally
        {
            await page.ScreenshotAsync(Path.Combine(Processes.RepositoryRoot(), "artifacts", "observability", "status-page.png"));
            feeding.Cancel();
            await feed;
        }
    }
}
