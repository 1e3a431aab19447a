using System.Net;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>
/// A domain served with no <c>Proxy:Upstream</c>: the HTTPS pages say what to configure (key, file,
/// docs) instead of an empty 404, for a browser (HTML, seen in headless Chromium) and for an API
/// client (plain text); <c>/ws</c> keeps working.
/// </summary>
public sealed class FlaskAppNotConfiguredTests
{
    private const string File = "/etc/openalgo-appliance/appsettings.Production.json";

    private static Task<TestAppliance> StartAsync() => TestAppliance.StartAsync(
        o => o.Tls.Domains = ["app.test"],
        services: s => s.AddSingleton(new ConfigurationOrigin(File)));

    private static HttpClient Client() => new(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });

    [Fact]
    public async Task The_root_page_names_the_key_the_file_and_the_docs()
    {
        await using var appliance = await StartAsync();
        using var http = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{appliance.Https.Port}/");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        string page = await response.Content.ReadAsStringAsync();
        Assert.Contains("<code>Proxy:Upstream</code> is empty", page);
        Assert.Contains($"Set it in <code>{File}</code>", page);
        Assert.Contains("unix:/var/python/openalgo/openalgo.sock", page);
        Assert.Contains("http://127.0.0.1:5000", page);
        Assert.Contains("man openalgo-appliance", page);
        Assert.Contains("configuration.md", page);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.True(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task An_api_client_gets_the_same_in_plain_text_and_HEAD_gets_no_body()
    {
        await using var appliance = await StartAsync();
        using var http = Client();
        using var api = await http.GetAsync($"https://127.0.0.1:{appliance.Https.Port}/api/v1/funds");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("text/plain", api.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"No OpenAlgo web app is configured behind this server. Set Appliance:Proxy:Upstream in {File}", await api.Content.ReadAsStringAsync());

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"https://127.0.0.1:{appliance.Https.Port}/"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        // The market data is unaffected.
        await using var ws = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await ws.AuthenticateAsync();
    }

    [Fact]
    public async Task A_browser_shows_the_page()
    {
        if (!System.IO.File.Exists(Chromium.Executable)) Assert.Fail("chromium (Debian package) is required; tests/run.sh installs it");
        await using var appliance = await StartAsync();
        await using var chromium = await Chromium.StartAsync("MAP app.test 127.0.0.1");
        var tab = await chromium.NewPageAsync();
        await tab.NavigateAsync($"https://app.test:{appliance.Https.Port}/");
        var heading = await tab.WaitForAsync("document.readyState === 'complete' ? document.querySelector('h1')?.textContent : null", TimeSpan.FromSeconds(30));
        Assert.Equal("No OpenAlgo web app is configured here", heading.GetValue<string>());
        string text = (await tab.EvaluateAsync("document.body.innerText"))!.GetValue<string>();
        Assert.Contains("Proxy:Upstream", text);
        Assert.Contains(File, text);
        string shot = Path.Combine(Processes.RepositoryRoot(), "artifacts", "browser", "no-flask-app.png");
        await tab.ScreenshotAsync(shot);
        Assert.Contains(tab.Responses, r => r.Url.EndsWith($":{appliance.Https.Port}/", StringComparison.Ordinal) && r.Status == 404);
    }
}
