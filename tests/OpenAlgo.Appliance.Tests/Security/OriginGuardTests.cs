using System.Net;
using System.Net.WebSockets;
using OpenAlgo.Appliance.Tests.Proxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Security;

/// <summary>
/// The origin policy on the market-data doors: /ws on HTTPS accepts any Origin unless
/// Security:CheckWsOrigin is on; the internal listener never checks.
/// </summary>
public sealed class OriginGuardTests
{
    private static async Task<HttpStatusCode?> HandshakeAsync(Uri uri, string? origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(uri, cts.Token);
            return socket.HttpStatusCode;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    [Fact]
    public async Task Ws_accepts_any_origin_by_default_as_openalgos_proxy_does()
    {
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o => o.Tls.Domains = ["localhost"], services: log.Register);
        Assert.False(appliance.Options.Security.CheckWsOrigin);
        foreach (string? origin in new[] { "https://evil.example", "http://127.0.0.1:" + appliance.Https.Port, "null", "garbage", null })
        {
            Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(appliance.PublicUri, origin));
        }
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(new Uri($"wss://127.0.0.1:{appliance.Https.Port}/ws/"), "https://evil.example"));
        Assert.False(log.Contains("is not allowed"), string.Join('\n', log.Lines));
    }

    [Fact]
    public async Task With_CheckWsOrigin_a_foreign_origin_on_ws_gets_403_with_a_log_line_ours_and_none_connect()
    {
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Domains = ["localhost"];
            o.Security.CheckWsOrigin = true;
        }, services: log.Register);
        var ws = appliance.PublicUri;

        Assert.Equal(HttpStatusCode.Forbidden, await HandshakeAsync(ws, "https://evil.example"));
        Assert.True(log.Contains("Origin 'https://evil.example' is not allowed"), string.Join('\n', log.Lines));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(ws, $"https://localhost:{appliance.Https.Port}"));
        // websocket-client's default for wss://DOMAIN/ws is http://DOMAIN: still an SDK of ours.
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(ws, $"http://localhost:{appliance.Https.Port}"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(ws, null));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(new Uri($"wss://127.0.0.1:{appliance.Https.Port}/ws/"), $"https://localhost:{appliance.Https.Port}"));

        // Refused before the upgrade: nothing reached the hub.
        await using var raw = await TlsRawClient.ConnectAsync(appliance.Https.Port);
        await raw.WriteAsync(TlsRawClient.WebSocketHandshake("/ws", appliance.Https.Port, origin: "https://evil.example"));
        Assert.StartsWith("HTTP/1.1 403", await raw.ReadHeadAsync());
    }

    [Fact]
    public async Task The_internal_listener_needs_no_origin_check_even_with_CheckWsOrigin()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Domains = ["localhost"];
            o.Security.CheckWsOrigin = true;
        });
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(appliance.InternalUri, "https://evil.example"));
    }

    [Fact]
    public async Task With_CheckWsOrigin_the_openalgo_sdks_transport_still_connects_with_its_default_origin()
    {
        // websocket-client sends "Origin: http://127.0.0.1:PORT" for wss://127.0.0.1:PORT/ws,
        // exactly as the SDK's ws_url="wss://DOMAIN/ws" sends http://DOMAIN.
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Domains = ["127.0.0.1"];
            o.Security.CheckWsOrigin = true;
        });
        string output = await Task.Run(() => Python.Run($$"""
            import json, ssl, websocket
            ws = websocket.create_connection("wss://127.0.0.1:{{appliance.Https.Port}}/ws", sslopt={"cert_reqs": ssl.CERT_NONE})
            ws.send(json.dumps({"action": "authenticate", "api_key": "testkey"}))
            print(ws.recv())
            """));
        Assert.Contains("\"status\": \"success\"", output);
    }

    [Fact]
    public async Task The_readme_client_example_runs_as_written_against_the_demo()
    {
        // README's snippet, byte for byte except the key and the port, under Debian's python3 with
        // python3-websocket: the demo serves localhost, the snippet dials 127.0.0.1 and
        // websocket-client sends Origin: http://127.0.0.1:PORT — which /ws must not refuse.
        string snippet = ReadmeClientSnippet();
        Assert.Contains("wss://127.0.0.1:8443/ws", snippet);
        Assert.Contains("<key>", snippet);

        string dir = Directory.CreateTempSubdirectory("oa-readme-").FullName;
        try
        {
            int https = TestAppliance.FreeTcpPort();
            var env = new Dictionary<string, string>
            {
                ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
                ["Appliance__Listen__Http"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
                ["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            };
            using var demo = ApplianceProcess.Start(dir, env, "demo");
            string key = (await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(30)))["Demo API key: ".Length..];

            string script = snippet.Replace("<key>", key, StringComparison.Ordinal).Replace("127.0.0.1:8443", $"127.0.0.1:{https}", StringComparison.Ordinal);
            string output = await Task.Run(() => Python.Run(script));
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 6, output + demo.Stdout);
            Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", lines[0]);
            Assert.StartsWith("{\"type\": \"subscribe\", \"status\": \"success\"", lines[1]);
            Assert.All(lines[2..], line => Assert.StartsWith("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 2", line));
            Assert.DoesNotContain("is not allowed", demo.Stdout + demo.Stderr);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The ```python block of README.md that opens a websocket-client connection.</summary>
    private static string ReadmeClientSnippet()
    {
        string readme = File.ReadAllText(Path.Combine(Processes.RepositoryRoot(), "README.md"));
        var blocks = System.Text.RegularExpressions.Regex.Matches(readme, "```python\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline);
        return blocks.Select(m => m.Groups[1].Value).Single(code => code.Contains("websocket.create_connection", StringComparison.Ordinal));
    }
}
