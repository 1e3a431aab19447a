using System.Net;
using System.Net.WebSockets;
using OpenAlgo.Appliance.Tests.Proxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Security;

/// <summary>The origin policy on the market-data doors: /ws on HTTPS checks, the internal listener does not.</summary>
public sealed class WebSocketOriginGuardTests
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
    public async Task A_foreign_origin_on_ws_gets_403_with_a_log_line_ours_and_none_connect()
    {
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o => o.Tls.Domains = ["localhost"], services: log.Register);
        var ws = appliance.PublicUri;

        Assert.Equal(HttpStatusCode.Forbidden, await HandshakeAsync(ws, "https://evil.example"));
        Assert.True(log.Contains("Origin 'https://evil.example' is not allowed"), string.Join('\n', log.Lines));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(ws, $"https://localhost:{appliance.Https.Port}"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(ws, null));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(new Uri($"wss://127.0.0.1:{appliance.Https.Port}/ws/"), $"https://localhost:{appliance.Https.Port}"));

        // Refused before the upgrade: nothing reached the hub.
        await using var raw = await TlsRawClient.ConnectAsync(appliance.Https.Port);
        await raw.WriteAsync(TlsRawClient.WebSocketHandshake("/ws", appliance.Https.Port, origin: "https://evil.example"));
        Assert.StartsWith("HTTP/1.1 403", await raw.ReadHeadAsync());
    }

    [Fact]
    public async Task The_internal_listener_needs_no_origin_check()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Tls.Domains = ["localhost"]);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await HandshakeAsync(appliance.InternalUri, "https://evil.example"));
    }

    [Fact]
    public async Task The_openalgo_sdks_transport_connects_with_its_default_origin()
    {
        // websocket-client sends "Origin: http://127.0.0.1:PORT" for wss://127.0.0.1:PORT/ws,
        // exactly as the SDK's ws_url="wss://DOMAIN/ws" sends http://DOMAIN.
        await using var appliance = await TestAppliance.StartAsync(o => o.Tls.Domains = ["127.0.0.1"]);
        string output = await Task.Run(() => Python.Run($$"""
            import json, ssl, websocket
            ws = websocket.create_connection("wss://127.0.0.1:{{appliance.Https.Port}}/ws", sslopt={"cert_reqs": ssl.CERT_NONE})
            ws.send(json.dumps({"action": "authenticate", "api_key": "testkey"}))
            print(ws.recv())
            """));
        Assert.Contains("\"status\": \"success\"", output);
    }
}
