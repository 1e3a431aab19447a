using System.Net;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Edge;

public sealed class EdgeRouterTests
{
    [Fact]
    public async Task Http_listener_redirects_everything_to_https_with_308()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var response = await http.GetAsync($"http://127.0.0.1:{appliance.Http!.Port}/ws?x=1");
        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal($"https://127.0.0.1:{appliance.Https.Port}/ws?x=1", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Http_listener_answers_acme_http01_tokens_itself_and_404s_unknown_ones()
    {
        await using var appliance = await TestAppliance.StartAsync();
        appliance.Services.GetRequiredService<OpenAlgo.Appliance.Tls.Acme.AcmeChallengeResponder>().AddHttp01("tok-123", "tok-123.thumbprint");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var answer = await http.GetAsync($"http://127.0.0.1:{appliance.Http!.Port}/.well-known/acme-challenge/tok-123");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("tok-123.thumbprint", await answer.Content.ReadAsStringAsync());
        var unknown = await http.GetAsync($"http://127.0.0.1:{appliance.Http!.Port}/.well-known/acme-challenge/other");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var page = await http.GetAsync($"http://127.0.0.1:{appliance.Http!.Port}/.well-known/security.txt");
        Assert.Equal(HttpStatusCode.PermanentRedirect, page.StatusCode);
    }

    [Fact]
    public async Task Https_sends_hsts_and_answers_plain_requests_on_ws_like_websockets_does()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var https = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var response = await https.GetAsync($"https://127.0.0.1:{appliance.Https.Port}/ws");
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Equal("max-age=63072000", response.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Contains("You need a WebSocket client", await response.Content.ReadAsStringAsync());
        var other = await https.GetAsync($"https://127.0.0.1:{appliance.Https.Port}/dashboard");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task Ws_trailing_slash_path_and_any_internal_path_reach_the_hub()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var a = await WsTestClient.ConnectAsync(new Uri($"wss://127.0.0.1:{appliance.Https.Port}/ws/"));
        await a.AuthenticateAsync();
        await using var b = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{appliance.Internal.Port}/anything/here?x=1"));
        await b.AuthenticateAsync();
    }

    [Fact]
    public async Task A_bare_tcp_health_check_on_the_internal_port_is_harmless()
    {
        await using var appliance = await TestAppliance.StartAsync();
        for (int i = 0; i < 3; i++)
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, appliance.Internal.Port);
        }
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
    }
}
