using System.Text.Json.Nodes;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>
/// A trader's browser tab: headless Chromium opens <c>new WebSocket('wss://app.test:PORT/ws')</c>
/// from a page at the appliance's own origin (served by the test through DevTools interception) and
/// reads ticks. Chromium offers permessage-deflate and compresses what it sends; the page reports
/// <c>ws.extensions</c> and the ticks it got. Screenshots go to <c>artifacts/browser/</c>.
/// </summary>
public sealed class BrowserMarketDataTests : IAsyncLifetime
{
    private const string Prefix = "/__market-data-test/";
    private Chromium _chromium = null!;
    private byte[] _page = null!;

    public async Task InitializeAsync()
    {
        _page = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "MarketData", "market_data_page.html"));
        _chromium = await Chromium.StartAsync("MAP app.test 127.0.0.1");
    }

    public async Task DisposeAsync() => await _chromium.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_browser_page_reads_ticks_compressed_when_the_setting_allows(bool perMessageDeflate)
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Domains = ["app.test"];
            o.MarketData.PerMessageDeflate = perMessageDeflate;
        });
        string origin = $"https://app.test:{appliance.Https.Port}";

        var tab = await _chromium.NewPageAsync();
        await tab.ServeAsync("*" + Prefix + "*", url => new Uri(url).AbsolutePath == Prefix + "page.html" ? ("text/html; charset=utf-8", _page) : null);
        await tab.NavigateAsync($"{origin}{Prefix}page.html?key=testkey&expect={(perMessageDeflate ? "deflate" : "plain")}");

        // Ticks until the page has one of each mode (the subscriptions come after the page loads).
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        JsonObject? result = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (result is null && DateTime.UtcNow < deadline)
        {
            bus.Publish("NSE_RELIANCE_LTP", PerMessageDeflateTests.LtpTick);
            bus.Publish("NSE_TCS_DEPTH", PerMessageDeflateTests.DepthTick);
            await Task.Delay(100);
            try
            {
                if (await tab.EvaluateAsync("window.testResult ? JSON.stringify(window.testResult) : null") is JsonValue value)
                {
                    result = JsonNode.Parse(value.GetValue<string>())!.AsObject();
                }
            }
            catch (InvalidOperationException)
            {
                // The page is still loading.
            }
        }
        string shot = Path.Combine(Processes.RepositoryRoot(), "artifacts", "browser", $"market-data-{(perMessageDeflate ? "deflate" : "plain")}.png");
        await tab.ScreenshotAsync(shot);
        await tab.CloseAsync();
        Assert.True(result is not null, "the page never finished; console:\n" + string.Join('\n', tab.Console));
        Assert.True(result["finished"]!.GetValue<string>() == "ticks", result.ToJsonString());

        Assert.Equal(perMessageDeflate ? "permessage-deflate; server_no_context_takeover" : "", result["extensions"]!.GetValue<string>());
        var handshake = tab.Responses.Single(r => r.Url.EndsWith("/ws", StringComparison.Ordinal));
        Assert.Equal(101, handshake.Status);
        Assert.Equal(perMessageDeflate, handshake.Headers.Any(h => h.Key.Equals("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(perMessageDeflate, appliance.Hub.FramesCompressed > 0);

        // Chromium compressed its authenticate and subscribe messages; the replies are the usual ones.
        var replies = result["replies"]!.AsArray().Select(r => r!.GetValue<string>()).ToList();
        Assert.Equal(3, replies.Count);
        Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", replies[0]);
        Assert.Contains("\"mode\": \"LTP\"", replies[1]);
        Assert.Contains("\"mode\": \"Depth\"", replies[2]);
        Assert.Equal("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": " + PerMessageDeflateTests.LtpTick + ", \"broker\": \"fakebroker\"}",
            result["ticks"]!["1"]!.GetValue<string>());
        Assert.Equal("{\"type\": \"market_data\", \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 3, \"data\": " + PerMessageDeflateTests.DepthTick + ", \"broker\": \"fakebroker\"}",
            result["ticks"]!["3"]!.GetValue<string>());
    }
}
