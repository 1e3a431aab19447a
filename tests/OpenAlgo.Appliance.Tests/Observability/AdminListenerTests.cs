using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>The admin listener: where /metrics, /healthz, /status.json and the page are served, and where they are not.</summary>
public sealed class AdminListenerTests
{
    [Fact]
    public async Task Metrics_are_served_on_the_admin_listener_and_never_on_the_public_ones()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = (_, _, _, _) => true });

        var admin = await http.GetAsync(new Uri(appliance.AdminUri, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("openalgo_appliance_ticks_received_total{", await admin.Content.ReadAsStringAsync());

        var https = await http.GetAsync($"https://127.0.0.1:{appliance.Https.Port}/metrics");
        Assert.Equal(HttpStatusCode.NotFound, https.StatusCode);
        Assert.DoesNotContain("openalgo_appliance", await https.Content.ReadAsStringAsync());
        var plain = await http.GetAsync($"http://127.0.0.1:{appliance.Http!.Port}/metrics");
        Assert.Equal(HttpStatusCode.PermanentRedirect, plain.StatusCode);
        Assert.DoesNotContain("openalgo_appliance", await plain.Content.ReadAsStringAsync());
        var @internal = await http.GetAsync($"http://127.0.0.1:{appliance.Internal.Port}/metrics");
        Assert.NotEqual(HttpStatusCode.OK, @internal.StatusCode);
        Assert.DoesNotContain("openalgo_appliance", await @internal.Content.ReadAsStringAsync());
        foreach (var path in new[] { "/healthz", "/status.json", "/" })
        {
            var response = await http.GetAsync($"https://127.0.0.1:{appliance.Https.Port}{path}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task Requests_naming_a_foreign_host_are_refused_so_a_rebound_domain_cannot_read_the_admin_listener()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var http = new HttpClient();
        foreach (var path in new[] { "/metrics", "/status.json", "/healthz", "/" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.AdminUri, path));
            request.Headers.Host = "attacker.example";
            var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
            Assert.DoesNotContain("openalgo_appliance", await response.Content.ReadAsStringAsync());
        }
        using var local = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.AdminUri, "/healthz"));
        local.Headers.Host = $"localhost:{appliance.Admin!.Port}"; // what ssh -L gives a browser
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(local)).StatusCode);
    }

    [Fact]
    public async Task Healthz_is_200_when_every_part_is_healthy()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(appliance.AdminUri, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Healthz_is_503_naming_the_certificate_while_acme_has_not_issued_one()
    {
        int closed = TestAppliance.FreeTcpPort(); // nothing listens: the CA is unreachable
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Mode = TlsMode.Acme;
            o.Tls.Domains = ["unreachable-ca.test"];
            o.Tls.Acme.DirectoryUrl = $"https://127.0.0.1:{closed}/dir";
            o.Tls.Acme.AcceptTermsOfService = true;
        }, services: s => s.AddSingleton(new OpenAlgo.Appliance.Tls.Acme.AcmeSchedule(TimeSpan.FromSeconds(1), _ => TimeSpan.FromMinutes(5))));
        using var http = new HttpClient();
        string body = "";
        await Eventually.SucceedsAsync(async () =>
        {
            var response = await http.GetAsync(new Uri(appliance.AdminUri, "/healthz"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            body = await response.Content.ReadAsStringAsync();
            Assert.Contains("last error", body); // once the first attempt has failed
        }, TimeSpan.FromSeconds(30));
        Assert.True(body.Split('\n').Any(line => line.StartsWith("serving a temporary self-signed certificate: ACME has not issued one yet (last error: ", StringComparison.Ordinal)), body);

        using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri(appliance.AdminUri, "/status.json")));
        Assert.False(status.RootElement.GetProperty("healthy").GetBoolean());
        var certificate = status.RootElement.GetProperty("sites")[0].GetProperty("certificate");
        Assert.True(certificate.GetProperty("standIn").GetBoolean());
        Assert.Equal("Acme", certificate.GetProperty("mode").GetString());
        Assert.False(string.IsNullOrEmpty(certificate.GetProperty("lastError").GetString()));
        var metrics = PrometheusScrape.Parse(await http.GetStringAsync(new Uri(appliance.AdminUri, "/metrics")));
        Assert.True(metrics.Single("openalgo_appliance_acme_failures_total", ("site", "default")).Value >= 1);
    }

    [Fact]
    public async Task Status_json_reads_the_meters_rates_and_latency_while_a_feed_runs()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 2}");
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(client, "NSE_RELIANCE_QUOTE", "{\"ltp\": 1.0}");
        using var feeding = new CancellationTokenSource();
        var feed = Task.Run(async () =>
        {
            while (!feeding.IsCancellationRequested)
            {
                bus.Publish("NSE_RELIANCE_QUOTE", "{\"ltp\": 2.5}");
                await Task.Delay(10);
            }
        });
        using var http = new HttpClient();
        JsonElement site = default;
        await Eventually.SucceedsAsync(async () =>
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(appliance.AdminUri, "/status.json?history")));
            site = document.RootElement.GetProperty("sites")[0].Clone();
            Assert.True(site.GetProperty("rates").GetProperty("ticksPerSecond").GetDouble() > 10);
            Assert.True(site.GetProperty("rates").GetProperty("deliveriesPerSecond").GetDouble() > 10);
            Assert.Equal(JsonValueKind.Number, site.GetProperty("rates").GetProperty("p99Seconds").ValueKind);
        }, TimeSpan.FromSeconds(20));
        feeding.Cancel();
        await feed;
        Assert.Equal("default", site.GetProperty("name").GetString());
        Assert.Equal(1, site.GetProperty("clients").GetProperty("wss").GetInt64());
        Assert.Equal(0, site.GetProperty("clients").GetProperty("internal").GetInt64());
        Assert.Equal(1, site.GetProperty("subscriptions").GetProperty("quote").GetInt64());
        Assert.Equal("testuser", site.GetProperty("users")[0].GetProperty("user").GetString());
        Assert.True(site.GetProperty("source").GetProperty("up").GetBoolean());
        Assert.Equal("Zmq", site.GetProperty("source").GetProperty("kind").GetString());
        Assert.InRange(site.GetProperty("rates").GetProperty("p50Seconds").GetDouble(), 1e-7, 5);
        Assert.True(site.GetProperty("history").GetArrayLength() >= 2);
        var certificate = site.GetProperty("certificate");
        Assert.Equal("SelfSigned", certificate.GetProperty("mode").GetString());
        Assert.Contains("localhost", certificate.GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        Assert.InRange(certificate.GetProperty("daysLeft").GetDouble(), 60, 91);
    }

    [Fact]
    public async Task The_admin_listener_can_be_a_unix_socket_or_off()
    {
        string socket = Path.Combine(Directory.CreateTempSubdirectory("oa-admin-").FullName, "run", "admin.sock");
        await using (var appliance = await TestAppliance.StartAsync(o => o.Listen.Admin = "unix:" + socket))
        {
            using var http = new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                    return new NetworkStream(s, ownsSocket: true);
                },
            });
            Assert.Equal("ok\n", await http.GetStringAsync("http://localhost/healthz"));
            Assert.Contains("openalgo_appliance_clients{", await http.GetStringAsync("http://localhost/metrics"));
        }
        await using var off = await TestAppliance.StartAsync(o => o.Listen.Admin = "");
        Assert.Null(off.Admin);
    }

    [Fact]
    public void Check_refuses_a_non_loopback_admin_address_unless_the_operator_opts_in()
    {
        var options = new ApplianceOptions();
        options.Listen.Admin = "0.0.0.0:9765";
        var error = Assert.Single(ApplianceOptionsValidator.Validate(options), e => e.StartsWith("Appliance:Listen:Admin", StringComparison.Ordinal));
        Assert.Contains("is not a loopback address", error);
        Assert.Contains("ssh -L 9765:127.0.0.1:9765", error);
        Assert.Contains("Listen:AdminAllowRemote=true", error);

        options.Listen.AdminAllowRemote = true;
        Assert.DoesNotContain(ApplianceOptionsValidator.Validate(options), e => e.StartsWith("Appliance:Listen:Admin", StringComparison.Ordinal));

        options.Listen.Admin = "unix:relative.sock";
        Assert.Contains(ApplianceOptionsValidator.Validate(options), e => e.StartsWith("Appliance:Listen:Admin: 'unix:relative.sock' is not unix: followed by an absolute path", StringComparison.Ordinal));
        options.Listen.Admin = "127.0.0.1:8765";
        Assert.Contains(ApplianceOptionsValidator.Validate(options), e => e.StartsWith("Appliance:Listen:Admin: 127.0.0.1:8765 is also Appliance:Listen:Internal", StringComparison.Ordinal));
    }
}
