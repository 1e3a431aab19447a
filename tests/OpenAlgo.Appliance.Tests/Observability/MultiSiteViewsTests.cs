using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// Every view with two sites, through the real executable configured the way an operator does it
/// (<c>appsettings.json</c> in the working directory, commands typed bare): <c>/metrics</c> has
/// each site under its <c>site</c> label, <c>/healthz</c> answers 503 naming the unhealthy site and
/// only it, <c>/status.json</c> and <c>status</c> show both sites, <c>certificates</c> shows a
/// self-signed site and a files site; a site a reload adds joins every view and one it removes leaves them.
/// </summary>
public sealed class MultiSiteViewsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-two-sites-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>beta's certificate: a PEM pair good for two and a half more days (under the 7 days /healthz accepts for a files certificate).</summary>
    private (string Certificate, string Key, X509Certificate2 Leaf) ExpiringSoon()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=beta.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("beta.test");
        request.CertificateExtensions.Add(names.Build());
        var leaf = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-87), DateTimeOffset.UtcNow.AddDays(2.5));
        string certificate = Path.Combine(_dir, "beta-fullchain.pem"), keyFile = Path.Combine(_dir, "beta-privkey.pem");
        File.WriteAllText(certificate, leaf.ExportCertificatePem() + "\n");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certificate, keyFile, leaf);
    }

    private static string StatusOf(HttpClient http, Uri admin) => http.GetStringAsync(new Uri(admin, "status.json")).GetAwaiter().GetResult();

    [Fact]
    public async Task Metrics_healthz_status_json_status_and_certificates_show_each_site_and_name_the_unhealthy_one()
    {
        var (certificate, key, betaLeaf) = ExpiringSoon();
        int alphaInternal = TestAppliance.FreeTcpPort(), betaInternal = TestAppliance.FreeTcpPort(), admin = TestAppliance.FreeTcpPort();
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), $$"""
            {
              "Appliance": {
                "Listen": { "Https": "127.0.0.1:{{TestAppliance.FreeTcpPort()}}", "Http": "" },
                "StateDirectory": "{{Path.Combine(_dir, "state")}}",
                "LogsDirectory": "{{Path.Combine(_dir, "logs")}}",
                "Limits": { "PingIntervalSeconds": 0 },
                "Sites": {
                  "alpha": {
                    "Tls": { "Mode": "SelfSigned", "Domains": [ "alpha.test" ] },
                    "Listen": { "Internal": "127.0.0.1:{{alphaInternal}}" },
                    "MarketData": { "Source": "Simulated", "SimulatedTicksPerSecond": 20 },
                    "Auth": { "StaticKeys": [ { "Key": "alpha-key", "UserId": "alice", "Broker": "zerodha" } ] }
                  },
                  "beta": {
                    "Tls": { "Mode": "Files", "Domains": [ "beta.test" ], "CertificateFile": "{{certificate}}", "KeyFile": "{{key}}" },
                    "Listen": { "Internal": "127.0.0.1:{{betaInternal}}" },
                    "MarketData": { "Source": "Simulated" },
                    "Auth": { "StaticKeys": [ { "Key": "beta-key", "UserId": "bob", "Broker": "dhan" } ] }
                  }
                }
              }
            }
            """);
        // ApplianceProcess turns the admin listener off unless told: the operator's file names none, so the default port would be shared between tests.
        var adminOn = new Dictionary<string, string> { ["Appliance__Listen__Admin"] = $"127.0.0.1:{admin}" };
        using var appliance = ApplianceProcess.Start(_dir, adminOn, "run");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var adminUri = new Uri($"http://127.0.0.1:{admin}/");
        await Eventually.SucceedsAsync(async () => (await http.GetAsync(new Uri(adminUri, "metrics"))).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(60));

        await using var alice = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{alphaInternal}/"));
        await alice.AuthenticateAsync("alpha-key");
        await alice.AskAsync(TestSites.Subscribe("RELIANCE", 2));
        await alice.ReceiveAsync(); // a tick: alpha's feed runs

        // /metrics: every contract series for each site, each site's own values.
        // (The exporter keeps a rendered scrape 300 ms: scrape until it shows the client.)
        List<MetricSample> metrics = [];
        await Eventually.SucceedsAsync(async () =>
        {
            metrics = await PrometheusScrape.ScrapeAsync(http, new Uri(adminUri, "metrics"));
            Assert.Equal(1, metrics.Single("openalgo_appliance_clients", ("site", "alpha"), ("door", "internal")).Value);
            Assert.True(metrics.Single("openalgo_appliance_ticks_received_total", ("site", "alpha")).Value > 0);
        }, TimeSpan.FromSeconds(30));
        foreach (var name in MetricsEndpointTests.ContractSeries)
        {
            foreach (var site in new[] { "alpha", "beta" }) Assert.True(metrics.Any(s => s.Name == name && s.Has("site", site)), $"{name}{{site=\"{site}\"}} missing");
        }
        Assert.DoesNotContain(metrics, s => s.Has("site", "default"));
        Assert.Equal(1, metrics.Single("openalgo_appliance_clients", ("site", "alpha"), ("door", "internal")).Value);
        Assert.Equal(0, metrics.Single("openalgo_appliance_clients", ("site", "beta"), ("door", "internal")).Value);
        Assert.Equal(1, metrics.Single("openalgo_appliance_subscriptions", ("site", "alpha"), ("mode", "quote")).Value);
        Assert.True(metrics.Single("openalgo_appliance_ticks_received_total", ("site", "alpha")).Value > 0);
        Assert.Equal(0, metrics.Single("openalgo_appliance_ticks_received_total", ("site", "beta")).Value);
        Assert.Equal(new DateTimeOffset(betaLeaf.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(), metrics.Single("openalgo_appliance_certificate_expiry_timestamp_seconds", ("site", "beta")).Value);
        Assert.True(metrics.Single("openalgo_appliance_certificate_expiry_timestamp_seconds", ("site", "alpha")).Value > DateTimeOffset.UtcNow.AddDays(80).ToUnixTimeSeconds());

        // /healthz: 503, beta's certificate named, alpha not.
        using (var health = await http.GetAsync(new Uri(adminUri, "healthz")))
        {
            string body = await health.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Matches(@"^site beta: certificate expires in 2\.\d days \(\d{4}-\d\d-\d\d\)\n$", body);
        }

        // /status.json: both sites, where each is served, which is unhealthy.
        using (var status = JsonDocument.Parse(await http.GetStringAsync(new Uri(adminUri, "status.json"))))
        {
            var root = status.RootElement;
            Assert.False(root.GetProperty("healthy").GetBoolean());
            Assert.Equal($"alpha 127.0.0.1:{alphaInternal}, beta 127.0.0.1:{betaInternal}", root.GetProperty("listeners").GetProperty("internal").GetString());
            var sites = root.GetProperty("sites").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
            Assert.Equal(["alpha", "beta"], sites.Keys.Order());
            Assert.True(sites["alpha"].GetProperty("healthy").GetBoolean());
            Assert.False(sites["beta"].GetProperty("healthy").GetBoolean());
            Assert.Equal("beta.test", sites["beta"].GetProperty("domains")[0].GetString());
            Assert.Equal($"127.0.0.1:{betaInternal}", sites["beta"].GetProperty("internal").GetString());
            Assert.Equal("Files", sites["beta"].GetProperty("certificate").GetProperty("mode").GetString());
            Assert.Equal("SelfSigned", sites["alpha"].GetProperty("certificate").GetProperty("mode").GetString());
            Assert.Equal("alice", sites["alpha"].GetProperty("users")[0].GetProperty("user").GetString());
            Assert.Equal(0, sites["beta"].GetProperty("users").GetArrayLength());
        }

        // status, as typed: both sites, beta's problem, exit 1.
        using (var status = ApplianceProcess.Start(_dir, adminOn, "status"))
        {
            int exit = await status.WaitForExitAsync(TimeSpan.FromSeconds(60));
            string text = status.Stdout;
            Assert.True(exit == 1, text + status.Stderr);
            Assert.Contains("UNHEALTHY (1 problem)", text);
            Assert.Contains($"site alpha: healthy\n  Serves:        alpha.test; internal listener 127.0.0.1:{alphaInternal}\n", text);
            Assert.Matches(@"site beta: UNHEALTHY\n  Problem:       certificate expires in 2\.\d days", text);
            Assert.Contains($"  Serves:        beta.test; internal listener 127.0.0.1:{betaInternal}\n", text);
            Assert.Contains("  Certificate:   beta.test (", text);
            Assert.Contains("  Clients:       1 (0 wss, 1 internal), 1 users; subscribed symbols 0 ltp, 1 quote, 0 depth\n                alice: 0 wss, 1 internal\n", text);
            Assert.Contains("  Clients:       0 (0 wss, 0 internal), 0 users;", text);
            Assert.True(text.IndexOf("site alpha:", StringComparison.Ordinal) < text.IndexOf("site beta:", StringComparison.Ordinal));
        }

        // certificates, as typed (offline: it reads the state directory and the files), per site.
        using (var certificates = ApplianceProcess.Start(_dir, new Dictionary<string, string>(), "certificates"))
        {
            int exit = await certificates.WaitForExitAsync(TimeSpan.FromSeconds(60));
            string text = certificates.Stdout;
            Assert.True(exit == 0, text + certificates.Stderr);
            Assert.Contains("  Site: alpha\n    Mode: SelfSigned\n    Configured domains: alpha.test\n", text);
            Assert.Contains($"    Certificate Path: {Path.Combine(_dir, "state", "sites", "alpha", "tls")}", text);
            Assert.Contains("    Source: self-signed by the appliance\n", text);
            Assert.Contains("  Site: beta\n    Mode: Files\n    Configured domains: beta.test\n", text);
            Assert.Contains($"    Certificate Path: {certificate}\n", text);
            Assert.Contains($"    Serial Number: {betaLeaf.SerialNumber.ToLowerInvariant()}\n", text);
            Assert.Matches(@"    Expiry Date: [0-9-]+ [0-9:]+\+00:00 \(VALID: 2 days\)\n    Source: PEM files \(Tls:CertificateFile\), reloaded when they change\n", text);
            Assert.Single(Regex.Matches(text, "self-signed by the appliance"));
        }

        // A site a reload adds is in every view with its own listener; one it removes is gone from them.
        int gammaInternal = TestAppliance.FreeTcpPort();
        string settings = Path.Combine(_dir, "appsettings.json");
        string withGamma = File.ReadAllText(settings).Replace("""
                  "beta": {
            """, $$"""
                  "gamma": {
                    "Tls": { "Domains": [ "gamma.test" ] },
                    "Listen": { "Internal": "127.0.0.1:{{gammaInternal}}" },
                    "MarketData": { "Source": "Simulated" },
                    "Auth": { "StaticKeys": [ { "Key": "gamma-key", "UserId": "carol", "Broker": "zerodha" } ] }
                  },
                  "beta": {
            """, StringComparison.Ordinal);
        Assert.Contains("gamma.test", withGamma);
        string original = File.ReadAllText(settings);
        File.WriteAllText(settings, withGamma);
        appliance.Hangup();
        await Eventually.TrueAsync(() => StatusOf(http, adminUri).Contains($"\"name\":\"gamma\",\"domains\":[\"gamma.test\"],\"internal\":\"127.0.0.1:{gammaInternal}\",\"healthy\":true", StringComparison.Ordinal),
            "gamma in /status.json", TimeSpan.FromSeconds(60));
        await Eventually.SucceedsAsync(async () =>
        {
            metrics = await PrometheusScrape.ScrapeAsync(http, new Uri(adminUri, "metrics"));
            Assert.Equal(0, metrics.Single("openalgo_appliance_clients", ("site", "gamma"), ("door", "internal")).Value);
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(1, metrics.Single("openalgo_appliance_clients", ("site", "alpha"), ("door", "internal")).Value); // alpha's client stayed
        File.WriteAllText(settings, original);
        appliance.Hangup();
        await Eventually.TrueAsync(() => !StatusOf(http, adminUri).Contains("gamma", StringComparison.Ordinal), "gamma gone from /status.json", TimeSpan.FromSeconds(60));
        await Eventually.SucceedsAsync(async () => Assert.DoesNotContain(await PrometheusScrape.ScrapeAsync(http, new Uri(adminUri, "metrics")), s => s.Has("site", "gamma")), TimeSpan.FromSeconds(30));

        appliance.Terminate();
        await alice.DisposeAsync();
        Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}
