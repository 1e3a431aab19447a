using System.Net;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>
/// Flask-SocketIO through the appliance with a real Socket.IO client (python3-socketio) and raw
/// requests: the WebSocket transport, long-polling, the origin policy on every request and the
/// logged-in-session gate. Browsers themselves: <see cref="BrowserSocketIoTests"/>.
/// </summary>
public sealed class SocketIoTests(FlaskAppFixture flask) : IClassFixture<FlaskAppFixture>
{
    private const string Polling = "/socket.io/?EIO=4&transport=polling";
    private const string WebSocket = "/socket.io/?EIO=4&transport=websocket";

    private Task<TestAppliance> StartAsync(Action<ApplianceOptions>? configure = null, LogCapture? log = null) =>
        TestAppliance.StartAsync(o =>
        {
            o.Proxy.Upstream = flask.App.Upstream;
            o.Tls.Domains = ["localhost"];
            configure?.Invoke(o);
        }, source: "Simulated", services: log is null ? null : log.Register);

    private static string SameSite(TestAppliance appliance) => $"https://localhost:{appliance.Https.Port}";

    [Fact]
    public async Task The_websocket_transport_alone_connects_and_receives_a_server_event()
    {
        await using var appliance = await StartAsync(o => o.Proxy.RequireSessionForSocketIo = false);
        var result = await SocketIoClient.ConnectAsync(appliance.Https.Port, ["websocket"], origin: SameSite(appliance));
        Assert.True(result.Connected, result.Error);
        Assert.Equal("websocket", result.Transport);
        Assert.Equal("welcome", result.Hello);
        Assert.Equal("ping", result.Echo);
    }

    [Fact]
    public async Task Long_polling_works()
    {
        await using var appliance = await StartAsync(o => o.Proxy.RequireSessionForSocketIo = false);
        var result = await SocketIoClient.ConnectAsync(appliance.Https.Port, ["polling"], origin: SameSite(appliance));
        Assert.True(result.Connected, result.Error);
        Assert.Equal("polling", result.Transport);
        Assert.Equal("welcome", result.Hello);
        Assert.Equal("ping", result.Echo);
    }

    [Fact]
    public async Task A_foreign_origin_gets_403_before_the_upgrade_and_an_allowed_one_connects()
    {
        var log = new LogCapture();
        await using var appliance = await StartAsync(o =>
        {
            o.Proxy.RequireSessionForSocketIo = false;
            o.Security.AllowedOrigins = ["https://desk.example.com"];
        }, log);
        int port = appliance.Https.Port;

        await using (var raw = await TlsRawClient.ConnectAsync(port))
        {
            await raw.WriteAsync(TlsRawClient.WebSocketHandshake(WebSocket, port, origin: "https://evil.example"));
            Assert.StartsWith("HTTP/1.1 403", await raw.ReadHeadAsync());
        }
        Assert.True(log.Contains("Origin 'https://evil.example' is not allowed"), string.Join('\n', log.Lines));

        var foreign = await SocketIoClient.ConnectAsync(port, ["websocket"], origin: "https://evil.example");
        Assert.False(foreign.Connected);
        // websocket-client's own default (http://127.0.0.1:port) is not a page of ours either.
        var scriptDefault = await SocketIoClient.ConnectAsync(port, ["websocket"]);
        Assert.False(scriptDefault.Connected);

        var listed = await SocketIoClient.ConnectAsync(port, ["websocket"], origin: "https://desk.example.com");
        Assert.True(listed.Connected, listed.Error);
        var domain = await SocketIoClient.ConnectAsync(port, ["websocket"], origin: SameSite(appliance));
        Assert.True(domain.Connected, domain.Error);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? origin, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "text/plain");
        return request;
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = Request(HttpMethod.Options, Polling, origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return request;
    }

    private static bool GrantsCors(HttpResponseMessage response) =>
        response.Headers.Contains("Access-Control-Allow-Origin") || response.Headers.Contains("Access-Control-Allow-Credentials");

    [Fact]
    public async Task Every_socket_io_request_with_a_foreign_origin_gets_403_before_flask_polling_get_post_and_preflight()
    {
        var log = new LogCapture();
        // The session gate off: the origin policy alone must refuse.
        await using var appliance = await StartAsync(o => o.Proxy.RequireSessionForSocketIo = false, log);
        using var https = FlaskProxyTests.Https(appliance);

        // A real Engine.IO session, opened without an Origin as a script would, so the requests
        // below name a session that exists.
        using var open = await https.GetAsync(Polling);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        string sid = System.Text.Json.JsonDocument.Parse((await open.Content.ReadAsStringAsync())[1..]).RootElement.GetProperty("sid").GetString()!;

        foreach (string origin in new[] { "https://evil.example", "https://evil.localhost:" + appliance.Https.Port, "null", "http://localhost:" + appliance.Https.Port })
        {
            foreach (var request in new[]
            {
                Request(HttpMethod.Get, Polling, origin),
                Request(HttpMethod.Get, Polling + "&sid=" + sid, origin),
                Request(HttpMethod.Post, Polling + "&sid=" + sid, origin, "40"),
                Preflight(origin),
            })
            {
                using (request)
                {
                    using var response = await https.SendAsync(request);
                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{request.Method} {request.RequestUri} from {origin}: {response.StatusCode}");
                    Assert.False(GrantsCors(response), $"{request.Method} from {origin} got a CORS grant");
                }
            }
        }
        Assert.True(log.Contains("Refused POST /socket.io/ from 127.0.0.1: Origin 'https://evil.example' is not allowed"), string.Join('\n', log.Lines));
        Assert.True(log.Contains("Refused OPTIONS /socket.io/ from 127.0.0.1: Origin 'null' is not allowed"), string.Join('\n', log.Lines));
        var seen = await flask.App.SocketIoOriginsAsync();
        Assert.DoesNotContain(seen.Keys, origin => origin.Contains("evil", StringComparison.Ordinal) || origin == "null" || origin.StartsWith("http:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_allowed_origin_gets_the_apps_cors_grant_and_its_preflight_needs_no_session()
    {
        await using var appliance = await StartAsync(o => o.Security.AllowedOrigins = ["https://desk.example.com"]);
        Assert.True(appliance.Options.Proxy.RequireSessionForSocketIo);
        using var https = FlaskProxyTests.Https(appliance);

        // Preflights carry no cookies (Fetch standard): from an allowed origin they reach engine.io.
        using (var preflight = Preflight("https://desk.example.com"))
        using (var response = await https.SendAsync(preflight))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https://desk.example.com", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        }
        // ...and the request they clear is still held to the session.
        using (var anonymous = Request(HttpMethod.Get, Polling, "https://desk.example.com"))
        using (var response = await https.SendAsync(anonymous))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var login = await https.PostAsync("/login", new FormUrlEncodedContent([new("user", "tester")]));
        string cookie = login.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        foreach (string origin in new[] { "https://desk.example.com", SameSite(appliance) })
        {
            using var polling = Request(HttpMethod.Get, Polling, origin);
            polling.Headers.Add("Cookie", cookie);
            using var response = await https.SendAsync(polling);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(origin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
    }

    [Fact]
    public async Task Without_a_logged_in_session_socket_io_is_refused_and_after_login_it_connects()
    {
        var log = new LogCapture();
        await using var appliance = await StartAsync(log: log);
        Assert.True(appliance.Options.Proxy.RequireSessionForSocketIo);
        int port = appliance.Https.Port;

        using var https = FlaskProxyTests.Https(appliance);
        using (var polling = await https.GetAsync(Polling))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, polling.StatusCode);
        }
        using (var forged = new HttpRequestMessage(HttpMethod.Get, Polling))
        {
            forged.Headers.Add("Cookie", "session=forged");
            using var response = await https.SendAsync(forged);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        await using (var raw = await TlsRawClient.ConnectAsync(port))
        {
            await raw.WriteAsync(TlsRawClient.WebSocketHandshake(WebSocket, port, origin: SameSite(appliance)));
            Assert.StartsWith("HTTP/1.1 403", await raw.ReadHeadAsync());
        }
        Assert.True(log.Contains("no logged-in OpenAlgo session"), string.Join('\n', log.Lines));

        var anonymous = await SocketIoClient.ConnectAsync(port, ["websocket"], origin: SameSite(appliance));
        Assert.False(anonymous.Connected);

        var loggedIn = await SocketIoClient.ConnectAsync(port, ["websocket"], origin: SameSite(appliance), login: true);
        Assert.True(loggedIn.Connected, loggedIn.Error);
        Assert.Equal("welcome", loggedIn.Hello);
        var loggedInPolling = await SocketIoClient.ConnectAsync(port, ["polling"], origin: SameSite(appliance), login: true);
        Assert.True(loggedInPolling.Connected, loggedInPolling.Error);
        Assert.Equal("ping", loggedInPolling.Echo);
    }

    [Fact]
    public async Task The_session_answer_is_cached_per_cookie()
    {
        await using var appliance = await StartAsync();
        using var https = FlaskProxyTests.Https(appliance);
        using var login = await https.PostAsync("/login", new FormUrlEncodedContent([new("user", "tester")]));
        string cookie = login.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        int before = await flask.App.SessionChecksAsync();
        for (int i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Polling);
            request.Headers.Add("Cookie", cookie);
            using var response = await https.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(before + 1, await flask.App.SessionChecksAsync());
    }

    [Fact]
    public async Task An_encoded_slash_does_not_slip_past_the_gate()
    {
        await using var appliance = await StartAsync();
        using var https = FlaskProxyTests.Https(appliance);
        foreach (string path in new[] { "/socket.io%2F?EIO=4&transport=polling", "/SOCKET.IO/?EIO=4&transport=polling", "/socket.io?EIO=4&transport=polling" })
        {
            using var response = await https.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task An_upgraded_connection_is_closed_after_its_idle_limit()
    {
        // Engine.IO pings every 25 s; a 1 s idle limit must close the tunnel long before that,
        // while plain requests keep their own 300 s read timeout.
        await using var appliance = await StartAsync(o =>
        {
            o.Proxy.RequireSessionForSocketIo = false;
            o.Proxy.UpgradeIdleTimeoutSeconds = 1;
        });
        Assert.Equal(300, appliance.Options.Proxy.ReadTimeoutSeconds);
        int port = appliance.Https.Port;
        await using var raw = await TlsRawClient.ConnectAsync(port);
        await raw.WriteAsync(TlsRawClient.WebSocketHandshake(WebSocket, port, origin: SameSite(appliance)));
        Assert.StartsWith("HTTP/1.1 101", await raw.ReadHeadAsync());
        Assert.True(await raw.WaitForCloseAsync(TimeSpan.FromSeconds(8)));
    }
}
