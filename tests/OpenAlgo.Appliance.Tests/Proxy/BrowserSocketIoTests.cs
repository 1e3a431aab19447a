using System.Text;
using System.Text.Json.Nodes;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>
/// Headless Chromium + the socket.io browser client from npm + the Flask-SocketIO app behind the
/// appliance, with the app served as <c>https://app.test:PORT</c>. Pages are served by the test
/// (DevTools request interception) at the app's own origin, a same-site sibling
/// (<c>https://evil.app.test</c>) and a cross-site one (<c>https://other.test</c>). A screenshot
/// of each page's verdict goes to <c>artifacts/browser/</c>.
/// </summary>
public sealed class BrowserSocketIoTests(FlaskAppFixture flask, BrowserFixture browser) : IClassFixture<FlaskAppFixture>, IClassFixture<BrowserFixture>
{
    private readonly LogCapture _log = new();

    private Task<TestAppliance> StartAsync(Action<ApplianceOptions>? configure = null) =>
        TestAppliance.StartAsync(o =>
        {
            o.Proxy.Upstream = flask.App.Upstream;
            o.Tls.Domains = ["app.test"];
            configure?.Invoke(o);
        }, source: "Simulated", services: _log.Register);

    private static string App(TestAppliance appliance) => $"https://app.test:{appliance.Https.Port}";

    [Fact]
    public async Task A_same_site_sibling_page_with_the_users_cookie_is_refused_over_polling_and_websocket()
    {
        await using var appliance = await StartAsync();
        string app = App(appliance);

        // The user is logged in to the app in this browser: its own page connects and is greeted as them.
        var own = await browser.OpenAsync(app, $"target={app}&login=1&expect=connected", "same-site-0-app-logged-in");
        Assert.True(own.Result["connected"]!.GetValue<bool>(), own.Describe(_log));
        Assert.Equal("tester", own.Result["hello"]?["user"]?.GetValue<string>());

        // A page on a sibling name: Chrome sends the SameSite=Lax session cookie along (same site).
        var polling = await browser.OpenAsync("https://evil.app.test", $"target={app}&credentials=1&expect=refused", "same-site-1-sibling-default-transports");
        var websocket = await browser.OpenAsync("https://evil.app.test", $"target={app}&credentials=1&transports=websocket&expect=refused", "same-site-2-sibling-websocket");
        foreach (var page in new[] { polling, websocket })
        {
            Assert.False(page.Result["connected"]!.GetValue<bool>(), page.Describe(_log));
            Assert.Null(page.Result["hello"]);
            var socketIo = page.SocketIoResponses;
            Assert.True(socketIo.Count > 0, page.Describe(_log));
            Assert.All(socketIo, r => Assert.Equal(403, r.Status));
            Assert.All(socketIo, r => Assert.False(BrowserPage.Has(r.Headers, "Access-Control-Allow-Origin") || BrowserPage.Has(r.Headers, "Access-Control-Allow-Credentials"), page.Describe(_log)));
        }
        Assert.StartsWith("xhr poll error", polling.Result["error"]!.GetValue<string>());
        Assert.StartsWith("websocket error", websocket.Result["error"]!.GetValue<string>());
        // Refused before anything reached Flask.
        Assert.DoesNotContain("https://evil.app.test", (await flask.App.SocketIoOriginsAsync()).Keys);
    }

    [Fact]
    public async Task A_cross_site_page_is_refused_by_origin_even_with_the_session_gate_off()
    {
        // Proxy:RequireSessionForSocketIo=false (an OpenAlgo without /auth/session-status): the
        // origin policy alone stands between a foreign page and the app's events.
        await using var appliance = await StartAsync(o => o.Proxy.RequireSessionForSocketIo = false);
        string app = App(appliance);
        foreach (var (query, name) in new[] { ($"target={app}", "cross-site-default-transports"), ($"target={app}&credentials=1", "cross-site-credentials"), ($"target={app}&transports=websocket", "cross-site-websocket") })
        {
            var page = await browser.OpenAsync("https://other.test", query + "&expect=refused", name);
            Assert.False(page.Result["connected"]!.GetValue<bool>(), page.Describe(_log));
            Assert.True(page.SocketIoResponses.Count > 0, page.Describe(_log));
            Assert.All(page.SocketIoResponses, r => Assert.Equal(403, r.Status));
        }
        Assert.DoesNotContain("https://other.test", (await flask.App.SocketIoOriginsAsync()).Keys);
    }

    [Fact]
    public async Task The_apps_own_page_connects_over_polling_and_upgrades_to_websocket()
    {
        await using var appliance = await StartAsync();
        string app = App(appliance);
        var page = await browser.OpenAsync(app, $"target={app}&login=1&expect=connected", "own-page-upgrade");
        Assert.True(page.Result["connected"]!.GetValue<bool>(), page.Describe(_log));
        Assert.Equal("polling", page.Result["openedOver"]?.GetValue<string>());
        Assert.True(page.Result["upgradedTo"]?.GetValue<string>() == "websocket", page.Describe(_log));
        Assert.Equal("websocket", page.Result["finalTransport"]?.GetValue<string>());
        Assert.Equal("tester", page.Result["hello"]?["user"]?.GetValue<string>());
        Assert.Equal("ping", page.Result["echo"]?.GetValue<string>());
        // The browser sends Origin on the polling POSTs and the upgrade: the dialled port counts as ours.
        Assert.Contains(app, (await flask.App.SocketIoOriginsAsync()).Keys);
    }

    [Fact]
    public async Task OpenAlgos_ui_call_shape_polling_only_works()
    {
        await using var appliance = await StartAsync();
        string app = App(appliance);
        var page = await browser.OpenAsync(app, $"target={app}&login=1&shape=openalgo&expect=connected", "own-page-openalgo-ui-shape");
        Assert.True(page.Result["connected"]!.GetValue<bool>(), page.Describe(_log));
        Assert.Equal("polling", page.Result["openedOver"]?.GetValue<string>());
        Assert.Equal("polling", page.Result["transport"]?.GetValue<string>());
        Assert.Null(page.Result["upgradedTo"]);
        Assert.Equal("polling", page.Result["finalTransport"]?.GetValue<string>());
        Assert.Equal("tester", page.Result["hello"]?["user"]?.GetValue<string>());
        Assert.Equal("ping", page.Result["echo"]?.GetValue<string>());
        Assert.All(page.SocketIoResponses, r => Assert.Equal(200, r.Status));
    }
}

/// <summary>One Chromium for the class (tests run one after another), the test page and the socket.io client.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private const string Prefix = "/__browser-test/";
    private Chromium _chromium = null!;
    private byte[] _page = null!;
    private byte[] _script = null!;

    internal string ClientVersion { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var (script, version) = await SocketIoBrowserClient.GetAsync();
        _script = Encoding.UTF8.GetBytes(script);
        ClientVersion = version;
        _page = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Proxy", "socketio_page.html"));
        _chromium = await Chromium.StartAsync("MAP app.test 127.0.0.1", "MAP evil.app.test 127.0.0.1", "MAP other.test 127.0.0.1");
    }

    public async Task DisposeAsync() => await _chromium.DisposeAsync();

    /// <summary>
    /// Opens the test page at <paramref name="origin"/> in a new tab, waits for its verdict and
    /// saves a screenshot as <c>artifacts/browser/NAME.png</c>.
    /// </summary>
    internal async Task<BrowserPage> OpenAsync(string origin, string query, string name)
    {
        var tab = await _chromium.NewPageAsync();
        await tab.ServeAsync("*" + Prefix + "*", url =>
        {
            string path = new Uri(url).AbsolutePath;
            return path switch
            {
                Prefix + "page.html" => ("text/html; charset=utf-8", _page),
                Prefix + "socket.io.min.js" => ("text/javascript; charset=utf-8", _script),
                _ => null,
            };
        });
        await tab.NavigateAsync($"{origin}{Prefix}page.html?{query}");
        var result = (await tab.WaitForAsync("window.testResult ? JSON.stringify(window.testResult) : null", TimeSpan.FromSeconds(60))).GetValue<string>();
        string shot = Path.Combine(Processes.RepositoryRoot(), "artifacts", "browser", name + ".png");
        await tab.ScreenshotAsync(shot);
        await tab.CloseAsync();
        var json = JsonNode.Parse(result)!.AsObject();
        if (json["scriptError"] is { } error) throw new InvalidOperationException($"page script failed: {error}; console:\n{string.Join('\n', tab.Console)}");
        return new BrowserPage(json, tab, ClientVersion, shot);
    }
}

internal sealed record BrowserPage(JsonObject Result, ChromiumPage Tab, string ClientVersion, string Screenshot)
{
    /// <summary>The tab's responses from <c>/socket.io/</c> (CORS-blocked ones included).</summary>
    public IReadOnlyList<(string Url, int Status, JsonObject Headers)> SocketIoResponses =>
        [.. Tab.Responses.Where(r => r.Url.Contains("/socket.io/", StringComparison.Ordinal) || r.Url.Contains("/socket.io?", StringComparison.Ordinal))];

    public static bool Has(JsonObject headers, string name) =>
        headers.Any(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    public string Describe(LogCapture log) =>
        $"appliance log:\n{string.Join('\n', log.Lines)}\nsocket.io-client {ClientVersion}; result {Result.ToJsonString()}\nresponses:\n"
        + string.Join('\n', Tab.Responses.Select(r => $"  {r.Status} {r.Url} {r.Headers.ToJsonString()}"))
        + $"\nconsole:\n{string.Join('\n', Tab.Console)}\nscreenshot: {Screenshot}";
}
