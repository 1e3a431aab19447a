using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Sites;

/// <summary>
/// Two sites in one process, as an install-multi.sh host has two OpenAlgo instances behind one
/// nginx: each reached by its own name, with its own certificate, keys, bus and internal listener,
/// and nothing of one reaching the other.
/// </summary>
public sealed class MultiSiteTests
{
    private static Task<TestAppliance> StartTwoAsync(Action<SiteOptions>? alpha = null, Action<SiteOptions>? beta = null) =>
        TestAppliance.StartAsync(o =>
        {
            o.Sites.Add(TestSites.New("alpha", "alpha.test", "alpha-key", "alice", alpha));
            o.Sites.Add(TestSites.New("beta", "beta.test", "beta-key", "bob", beta));
        });

    [Fact]
    public async Task Sni_picks_each_sites_own_certificate_and_an_unknown_name_or_none_is_refused()
    {
        await using var appliance = await StartTwoAsync();
        int port = appliance.Https.Port;

        var (alpha, alphaError) = await LoopbackNames.HandshakeAsync(port, "alpha.test");
        Assert.Null(alphaError);
        Assert.True(alpha!.MatchesHostname("alpha.test"));
        Assert.False(alpha.MatchesHostname("beta.test"));
        var (beta, betaError) = await LoopbackNames.HandshakeAsync(port, "beta.test");
        Assert.Null(betaError);
        Assert.True(beta!.MatchesHostname("beta.test"));
        Assert.False(beta.MatchesHostname("alpha.test"));
        Assert.NotEqual(alpha.Thumbprint, beta.Thumbprint);

        // No other site's certificate for a name nobody serves, nor for a bare IP without SNI.
        var (unknown, unknownError) = await LoopbackNames.HandshakeAsync(port, "gamma.test");
        Assert.NotNull(unknownError);
        Assert.Null(unknown);
        var (bare, bareError) = await LoopbackNames.HandshakeAsync(port, null);
        Assert.NotNull(bareError);
        Assert.Null(bare);
    }

    [Fact]
    public async Task The_refusal_of_an_unknown_name_is_a_tls_unrecognized_name_alert()
    {
        await using var appliance = await StartTwoAsync();
        var (exit, output) = Processes.Run("openssl", null, "s_client", "-connect", $"127.0.0.1:{appliance.Https.Port}", "-servername", "gamma.test", "-brief");
        Assert.NotEqual(0, exit);
        Assert.Contains("unrecognized name", output, StringComparison.OrdinalIgnoreCase);
        (exit, output) = Processes.Run("openssl", null, "s_client", "-connect", $"127.0.0.1:{appliance.Https.Port}", "-servername", "beta.test", "-brief");
        Assert.Contains("beta.test", output);
    }

    [Fact]
    public async Task An_api_key_of_one_site_never_authenticates_on_the_other()
    {
        await using var appliance = await StartTwoAsync();
        using var dial = new HttpMessageInvoker(LoopbackNames.Handler());

        await using var alphaPublic = await WsTestClient.ConnectAsync(appliance.PublicUriFor("alpha.test"), dial);
        Assert.Contains("\"user_id\": \"alice\"", await alphaPublic.AskAsync(TestSites.Authenticate("alpha-key")));
        await using var betaPublic = await WsTestClient.ConnectAsync(appliance.PublicUriFor("beta.test"), dial);
        Assert.Equal("{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}", await betaPublic.AskAsync(TestSites.Authenticate("alpha-key")));
        Assert.Contains("\"user_id\": \"bob\"", await betaPublic.AskAsync(TestSites.Authenticate("beta-key")));

        await using var betaInternal = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
        Assert.Contains("Invalid API key", await betaInternal.AskAsync(TestSites.Authenticate("alpha-key")));
        await using var alphaInternal = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
        Assert.Contains("Invalid API key", await alphaInternal.AskAsync(TestSites.Authenticate("beta-key")));
        Assert.Contains("\"user_id\": \"alice\"", await alphaInternal.AskAsync(TestSites.Authenticate("alpha-key")));
        Assert.NotEqual(appliance.InternalUriOf("alpha"), appliance.InternalUriOf("beta"));
    }

    [Fact]
    public async Task A_tick_of_one_site_never_reaches_the_other_sites_clients()
    {
        await using var appliance = await StartTwoAsync();
        await using var alphaClient = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
        await alphaClient.AskAsync(TestSites.Authenticate("alpha-key"));
        await alphaClient.AskAsync(TestSites.Subscribe("SBIN"));
        await using var betaClient = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
        await betaClient.AskAsync(TestSites.Authenticate("beta-key"));
        await betaClient.AskAsync(TestSites.Subscribe("SBIN"));

        using var alphaBus = new BusPublisher(appliance.Site("alpha").Options.MarketData.ZmqEndpoint);
        using var betaBus = new BusPublisher(appliance.Site("beta").Options.MarketData.ZmqEndpoint);
        await alphaBus.PublishUntilReceivedAsync(alphaClient, "NSE_SBIN_LTP", "{\"ltp\": 1}");
        await betaBus.PublishUntilReceivedAsync(betaClient, "NSE_SBIN_LTP", "{\"ltp\": 2}");
        await DrainAsync(alphaClient);
        await DrainAsync(betaClient);

        long betaTicks = appliance.Site("beta").Hub.TicksIn;
        for (int i = 0; i < 20; i++) alphaBus.Publish("NSE_SBIN_LTP", "{\"ltp\": 101.5}");
        Assert.Contains("\"ltp\": 101.5", await alphaClient.ReceiveAsync());
        await DrainAsync(alphaClient);
        await Assert.ThrowsAsync<TimeoutException>(() => betaClient.ReceiveAsync(TimeSpan.FromSeconds(1)));
        Assert.Equal(betaTicks, appliance.Site("beta").Hub.TicksIn);

        long alphaTicks = appliance.Site("alpha").Hub.TicksIn;
        for (int i = 0; i < 20; i++) betaBus.Publish("NSE_SBIN_LTP", "{\"ltp\": 202.5}");
        Assert.Contains("\"ltp\": 202.5", await betaClient.ReceiveAsync());
        await Assert.ThrowsAsync<TimeoutException>(() => alphaClient.ReceiveAsync(TimeSpan.FromSeconds(1)));
        Assert.Equal(alphaTicks, appliance.Site("alpha").Hub.TicksIn);
    }

    [Fact]
    public async Task A_client_flood_on_one_site_meets_that_sites_limit_and_the_other_site_admits_and_streams_as_usual()
    {
        await using var appliance = await StartTwoAsync(alpha: a => a.Limits.MaxClients = 2);
        // Beta's subscriber, streaming before alpha's flood starts.
        await using var betaStreaming = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
        await betaStreaming.AskAsync(TestSites.Authenticate("beta-key"));
        await betaStreaming.AskAsync(TestSites.Subscribe("SBIN"));
        using var betaBus = new BusPublisher(appliance.Site("beta").Options.MarketData.ZmqEndpoint);
        await betaBus.PublishUntilReceivedAsync(betaStreaming, "NSE_SBIN_LTP", "{\"ltp\": 1}");
        await DrainAsync(betaStreaming);

        var flood = new List<WsTestClient>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                var client = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
                flood.Add(client);
                await client.AskAsync(TestSites.Authenticate("alpha-key"));
            }
            // Twenty more at once on alpha's door, all refused by alpha's limit.
            var refused = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                await using var extra = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
                return await extra.ReceiveAsync();
            }));
            Assert.All(refused, reply => Assert.Contains("LIMIT_EXCEEDED", reply));
            Assert.Equal(2, appliance.Site("alpha").Hub.ClientCount);

            // Beta: its streaming client got every tick, and it admits past alpha's limit.
            betaBus.Publish("NSE_SBIN_LTP", "{\"ltp\": 42.5}");
            Assert.Contains("\"ltp\": 42.5", await betaStreaming.ReceiveAsync());
            await using var beta1 = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
            Assert.Contains("\"user_id\": \"bob\"", await beta1.AskAsync(TestSites.Authenticate("beta-key")));
            await using var beta2 = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
            Assert.Contains("\"user_id\": \"bob\"", await beta2.AskAsync(TestSites.Authenticate("beta-key")));
            await using var beta3 = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
            Assert.Contains("\"user_id\": \"bob\"", await beta3.AskAsync(TestSites.Authenticate("beta-key")));
            Assert.Equal(4, appliance.Site("beta").Hub.ClientCount);
        }
        finally
        {
            foreach (var client in flood) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Http_redirects_a_sites_names_answers_any_acme_token_and_gives_421_for_an_unknown_host()
    {
        await using var appliance = await StartTwoAsync();
        using var http = LoopbackNames.Http();
        int httpPort = appliance.Http!.Port, httpsPort = appliance.Https.Port;

        var alpha = await http.GetAsync($"http://alpha.test:{httpPort}/dashboard?x=1");
        Assert.Equal(HttpStatusCode.PermanentRedirect, alpha.StatusCode);
        Assert.Equal($"https://alpha.test:{httpsPort}/dashboard?x=1", alpha.Headers.Location!.ToString());
        var beta = await http.GetAsync($"http://beta.test:{httpPort}/");
        Assert.Equal($"https://beta.test:{httpsPort}/", beta.Headers.Location!.ToString());

        var unknown = await http.GetAsync($"http://gamma.test:{httpPort}/");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, unknown.StatusCode);
        Assert.Contains("gamma.test", await unknown.Content.ReadAsStringAsync());
        var bareIp = await http.GetAsync($"http://127.0.0.1:{httpPort}/");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, bareIp.StatusCode);

        appliance.Root.GetRequiredService<OpenAlgo.Appliance.Tls.Acme.AcmeChallengeResponder>().AddHttp01("token-b", "token-b.key");
        var token = await http.GetAsync($"http://beta.test:{httpPort}/.well-known/acme-challenge/token-b");
        Assert.Equal("token-b.key", await token.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_request_for_another_site_on_a_tls_connection_gets_421_and_its_own_site_is_served()
    {
        await using var appliance = await StartTwoAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, appliance.Https.Port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "alpha.test" });

        string own = await RequestAsync(tls, "alpha.test");
        Assert.StartsWith("HTTP/1.1 426", own); // /ws without an upgrade, served by alpha's hub
        Assert.Contains("Strict-Transport-Security", own);
        string other = await RequestAsync(tls, "beta.test");
        Assert.StartsWith("HTTP/1.1 421", other);
        Assert.True(other.Contains("opened for site alpha; beta.test is served on a connection of its own", StringComparison.Ordinal), "the whole response:\n" + other);

        static async Task<string> RequestAsync(SslStream tls, string host)
        {
            await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET /ws HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"));
            // The whole response, however many TLS records it came in: headers, then its Content-Length or chunks.
            var response = new StringBuilder();
            var buffer = new byte[8192];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (!Complete(response.ToString()))
            {
                int read = await tls.ReadAsync(buffer, timeout.Token);
                if (read == 0) break;
                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            return response.ToString();
        }

        static bool Complete(string response)
        {
            int end = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0) return false;
            var length = System.Text.RegularExpressions.Regex.Match(response[..end], @"(?im)^Content-Length:\s*(\d+)");
            if (length.Success) return response.Length - end - 4 >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (!response[..end].Contains("chunked", StringComparison.OrdinalIgnoreCase)) return true;
            // The last chunk, in the body: the header block alone can end in "0\r\n\r\n" too
            // (Strict-Transport-Security: max-age=63072000 last), which left the body to be read
            // as the next response's start.
            string body = response[(end + 4)..];
            return body == "0\r\n\r\n" || body.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Each_site_keeps_its_self_signed_certificate_in_its_own_state_folder()
    {
        await using var appliance = await StartTwoAsync();
        string state = appliance.Options.StateDirectory;
        Assert.True(File.Exists(Path.Combine(state, "sites", "alpha", "tls", "self-signed.crt.pem")));
        Assert.True(File.Exists(Path.Combine(state, "sites", "beta", "tls", "self-signed.crt.pem")));
        Assert.False(File.Exists(Path.Combine(state, "tls", "self-signed.crt.pem")));
    }

    private static async Task DrainAsync(WsTestClient client)
    {
        try
        {
            while (true) await client.ReceiveAsync(TimeSpan.FromMilliseconds(300));
        }
        catch (TimeoutException)
        {
        }
    }
}
