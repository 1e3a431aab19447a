using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>The HTTP side of the proxy, through the appliance's real HTTPS listener to the real Flask app.</summary>
public sealed class FlaskProxyTests(FlaskAppFixture flask) : IClassFixture<FlaskAppFixture>
{
    internal static HttpClient Https(TestAppliance appliance) => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        AllowAutoRedirect = false,
        UseCookies = false,
    })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{appliance.Https.Port}"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private Task<TestAppliance> StartAsync(Action<ApplianceOptions>? configure = null, LogCapture? log = null) =>
        TestAppliance.StartAsync(o =>
        {
            o.Proxy.Upstream = flask.App.Upstream;
            configure?.Invoke(o);
        }, source: "Simulated", services: log is null ? null : log.Register);

    [Fact]
    public async Task Proxies_a_page_with_the_headers_nginx_set_and_no_upgrade_headers_on_plain_requests()
    {
        await using var appliance = await StartAsync();
        using var https = Https(appliance);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/echo?x=1&y=%2F");
        // What a client may send: an earlier hop's X-Forwarded-For (kept, as nginx does) and
        // forged X-Real-IP / X-Forwarded-Proto / -Host (replaced).
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Real-IP", "198.51.100.1");
        request.Headers.Add("X-Forwarded-Proto", "http");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        using var response = await https.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await response.Content.ReadFromJsonAsync<JsonElement>();
        var headers = seen.GetProperty("headers");
        string host = $"127.0.0.1:{appliance.Https.Port}";
        Assert.Equal("/echo", seen.GetProperty("path").GetString());
        Assert.Equal("x=1&y=%2F", seen.GetProperty("query").GetString());
        Assert.Equal(host, headers.GetProperty("Host").GetString());
        Assert.Equal("127.0.0.1", headers.GetProperty("X-Real-Ip").GetString());
        Assert.Equal("203.0.113.7, 127.0.0.1", headers.GetProperty("X-Forwarded-For").GetString());
        Assert.Equal("https", headers.GetProperty("X-Forwarded-Proto").GetString());
        Assert.Equal(host, headers.GetProperty("X-Forwarded-Host").GetString());
        // OpenAlgo #1807: "Connection: upgrade" on plain requests broke keep-alive to gunicorn.
        Assert.False(headers.TryGetProperty("Upgrade", out _));
        if (headers.TryGetProperty("Connection", out var connection)) Assert.DoesNotContain("upgrade", connection.GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("max-age=63072000", response.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Proxies_to_a_unix_socket_as_install_sh_binds_gunicorn()
    {
        using var app = await FlaskApp.StartUnixAsync();
        Assert.StartsWith("unix:/", app.Upstream);
        await using var appliance = await TestAppliance.StartAsync(o => o.Proxy.Upstream = app.Upstream, source: "Simulated");
        using var https = Https(appliance);
        var seen = await https.GetFromJsonAsync<JsonElement>("/echo");
        Assert.Equal("127.0.0.1", seen.GetProperty("headers").GetProperty("X-Real-Ip").GetString());
        Assert.Equal("flask:/dashboard", await https.GetStringAsync("/dashboard"));
        Assert.Equal(1 << 20, (await https.GetByteArrayAsync("/download?bytes=1048576")).Length);
    }

    [Fact]
    public async Task Security_headers_go_on_html_once_and_the_apps_own_win()
    {
        await using var appliance = await StartAsync();
        using var https = Https(appliance);

        using var own = await https.GetAsync("/page");
        Assert.Equal("SAMEORIGIN", own.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("max-age=31536000", own.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Equal("nosniff", own.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("strict-origin-when-cross-origin", own.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(own.Headers.Contains("Server")); // nginx hides the app server's name too

        using var bare = await https.GetAsync("/bare");
        Assert.Equal("DENY", bare.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("max-age=63072000", bare.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Equal("strict-origin-when-cross-origin", bare.Headers.GetValues("Referrer-Policy").Single());

        using var text = await https.GetAsync("/anything.js");
        Assert.Equal("nosniff", text.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(text.Headers.Contains("X-Frame-Options"));
    }

    [Fact]
    public async Task Streams_a_response_as_the_app_writes_it()
    {
        await using var appliance = await StartAsync();
        using var https = Https(appliance);
        string id = Guid.NewGuid().ToString("N");
        using var response = await https.GetAsync($"/stream?id={id}", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        // The app holds its second chunk until released: the first must already be here.
        var buffer = new byte[64];
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            int read = await body.ReadAsync(buffer, cts.Token);
            Assert.Equal("first\n", Encoding.ASCII.GetString(buffer, 0, read));
        }
        Assert.Equal("released", await https.GetStringAsync($"/release?id={id}"));
        using var reader = new StreamReader(body);
        Assert.Equal("second\n", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413_and_a_log_line()
    {
        var log = new LogCapture();
        await using var appliance = await StartAsync(o => o.Proxy.MaxRequestBodyBytes = 64 * 1024, log);
        using var https = Https(appliance);

        using var fits = await https.PostAsync("/echo", new ByteArrayContent(new byte[64 * 1024]));
        Assert.Equal(64 * 1024, (await fits.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("body_length").GetInt32());

        // Declared too large: refused on the headers, the app never asked.
        await using (var raw = await TlsRawClient.ConnectAsync(appliance.Https.Port))
        {
            await raw.WriteAsync($"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {64 * 1024 + 1}\r\n\r\n");
            string head = await raw.ReadHeadAsync();
            Assert.StartsWith("HTTP/1.1 413", head);
        }

        // Chunked (no length): cut when it crosses the limit.
        await using (var raw = await TlsRawClient.ConnectAsync(appliance.Https.Port))
        {
            await raw.WriteAsync("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
            var chunk = Encoding.ASCII.GetBytes("4000\r\n" + new string('x', 0x4000) + "\r\n");
            for (int i = 0; i < 5; i++) await raw.WriteAsync(chunk);
            string head = await raw.ReadHeadAsync();
            Assert.StartsWith("HTTP/1.1 413", head);
        }
        Assert.True(log.Contains("over Proxy:MaxRequestBodyBytes"), string.Join('\n', log.Lines));
    }

    [Fact]
    public async Task The_default_body_limit_is_16_MiB()
    {
        await using var appliance = await StartAsync();
        Assert.Equal(16L << 20, appliance.Options.Proxy.MaxRequestBodyBytes);
        await using var raw = await TlsRawClient.ConnectAsync(appliance.Https.Port);
        await raw.WriteAsync($"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {(16 << 20) + 1}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 413", await raw.ReadHeadAsync());
    }

    [Fact]
    public async Task An_app_silent_past_the_read_timeout_gets_504()
    {
        await using var appliance = await StartAsync(o => o.Proxy.ReadTimeoutSeconds = 1);
        using var https = Https(appliance);
        using var response = await https.GetAsync("/slow?seconds=4");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.StartsWith("504 Gateway Timeout", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Http_redirects_everything_with_308_including_proxied_paths()
    {
        await using var appliance = await StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        foreach (string path in new[] { "/dashboard?x=1", "/socket.io/?EIO=4&transport=polling", "/ws" })
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{appliance.Http!.Port}{path}");
            Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
            Assert.Equal($"https://127.0.0.1:{appliance.Https.Port}{path}", response.Headers.Location!.ToString());
        }
    }

    [Fact]
    public async Task Only_the_right_doors_acme_challenges_stay_here_and_the_internal_listener_never_proxies()
    {
        await using var appliance = await StartAsync();
        using var https = Https(appliance);
        // Everything else on HTTPS is the app's, including what would be an appliance's internals elsewhere.
        Assert.Equal("flask:/metrics", await https.GetStringAsync("/metrics"));
        using var acme = await https.GetAsync("/.well-known/acme-challenge/token123");
        Assert.Equal(HttpStatusCode.NotFound, acme.StatusCode);

        // The internal listener is the market-data hub only: a plain GET gets the hub's 426, not Flask.
        using var plain = new HttpClient();
        foreach (string path in new[] { "/echo", "/metrics", "/socket.io/?EIO=4&transport=polling" })
        {
            using var response = await plain.GetAsync($"http://127.0.0.1:{appliance.Internal.Port}{path}");
            Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
            Assert.DoesNotContain("flask", await response.Content.ReadAsStringAsync());
        }
    }
}
