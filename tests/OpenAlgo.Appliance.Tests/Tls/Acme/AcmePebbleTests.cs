using OpenAlgo.Appliance.Configuration;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Tls.Acme;

/// <summary>The ACME client against a real Pebble: challenges, chains, nonces, renewal, restarts, outages.</summary>
public sealed class AcmePebbleTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("oa-acme-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_state, recursive: true); } catch (IOException) { }
    }

    private static readonly AcmeSchedule Fast = new(TimeSpan.FromMilliseconds(500), failures => TimeSpan.FromMilliseconds(300 * failures));

    private Task<TestAppliance> StartApplianceAsync(PebbleServer pebble, int http, int https, string challenges, params string[] domains) =>
        StartApplianceAsync(pebble, http, https, challenges, Fast, domains);

    /// <summary><paramref name="schedule"/> null: the loop runs on the configuration's schedule (<c>Tls:Acme:RenewCheckInterval</c>).</summary>
    private Task<TestAppliance> StartApplianceAsync(PebbleServer pebble, int http, int https, string challenges, AcmeSchedule? schedule, params string[] domains) =>
        TestAppliance.StartAsync(o =>
        {
            o.UseTestCa(_state, http, https, pebble.DirectoryUrl, pebble.TrustedRootsFile, domains);
            o.Tls.Acme.Email = "ops@example.com";
            o.Tls.Acme.ChallengeTypes = challenges;
        }, services: s =>
        {
            if (schedule is not null) s.AddSingleton(schedule);
        });

    private static async Task<ServerCertificate> WaitForIssuedAsync(TestAppliance appliance, string? notSerial = null, int seconds = 60)
    {
        var service = appliance.Services.GetRequiredService<AcmeCertificateService>();
        for (int i = 0; i < seconds * 10; i++)
        {
            if (service.Issued is { } issued && issued.Leaf.SerialNumber != notSerial) return issued;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no certificate issued; failures so far: {service.Failures}");
    }

    /// <summary>The chain a client receives over TLS for <paramref name="serverName"/>.</summary>
    private static async Task<(X509Certificate2 Leaf, int ChainCertificates)> HandshakeAsync(int port, string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        X509Certificate2? leaf = null;
        int sent = 0;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, chain, _) =>
        {
            leaf = new X509Certificate2(cert!);
            sent = chain?.ChainPolicy.ExtraStore.Count ?? 0; // everything the server sent, leaf included
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName, ApplicationProtocols = [SslApplicationProtocol.Http11] });
        return (leaf!, sent);
    }

    [Fact]
    public async Task Http01_issues_one_certificate_for_two_names_and_serves_the_whole_chain()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, chainLength: 3);
        await using var appliance = await StartApplianceAsync(pebble, http, https, "Http01", "a.test", "b.test");
        // Until the order completes a stand-in is served; the process is up.
        var issued = await WaitForIssuedAsync(appliance);
        Assert.Contains("Pebble", issued.Leaf.Issuer);
        Assert.True(issued.Leaf.MatchesHostname("a.test") && issued.Leaf.MatchesHostname("b.test"));
        var (leaf, chain) = await HandshakeAsync(https, "b.test");
        Assert.Equal(issued.Leaf.SerialNumber, leaf.SerialNumber);
        Assert.Equal(3, issued.Intermediates.Count); // Pebble was told to use 3 intermediates
        Assert.Equal(4, chain); // all of them on the wire, with the leaf
        // Keys at rest are encrypted, the chain is plain PEM.
        string protectedKey = File.ReadAllText(Path.Combine(_state, "acme", "certificate.key.protected"));
        Assert.DoesNotContain("PRIVATE KEY", protectedKey);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(Path.Combine(_state, "acme", "certificate.pem")));
        Assert.Equal(Convert.ToInt32("700", 8), (int)File.GetUnixFileMode(Path.Combine(_state, "acme")));
        Assert.Equal(Convert.ToInt32("700", 8), (int)File.GetUnixFileMode(Path.Combine(_state, "dataprotection")));
        Assert.All(Directory.GetFiles(Path.Combine(_state, "dataprotection")), f => Assert.Equal(Convert.ToInt32("600", 8), (int)File.GetUnixFileMode(f)));
        Assert.Equal(Convert.ToInt32("600", 8), (int)File.GetUnixFileMode(Path.Combine(_state, "acme", "account.key.protected")));
    }

    [Fact]
    public async Task TlsAlpn01_only_with_badNonce_storms_and_ordinary_clients_unaffected()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, nonceRejectPercent: 50);
        await using var appliance = await StartApplianceAsync(pebble, http, https, "TlsAlpn01", "alpn.test");
        var issued = await WaitForIssuedAsync(appliance);
        Assert.Contains("Pebble", issued.Leaf.Issuer);
        var (leaf, _) = await HandshakeAsync(https, "alpn.test");
        Assert.Equal(issued.Leaf.SerialNumber, leaf.SerialNumber);
        await using var client = await WsTestClient.ConnectAsync(new Uri($"wss://127.0.0.1:{https}/ws"));
        await client.AuthenticateAsync();
    }

    [Fact]
    public async Task Renews_in_place_before_expiry_and_a_restart_reuses_the_stored_certificate()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, validitySeconds: 12);
        string first;
        await using (var appliance = await StartApplianceAsync(pebble, http, https, "Http01", "renew.test"))
        {
            first = (await WaitForIssuedAsync(appliance)).Leaf.SerialNumber;
            // 12 s lifetime (< 10 days: renew at 1/2): a new serial within the same process.
            var renewed = await WaitForIssuedAsync(appliance, notSerial: first, seconds: 30);
            Assert.Equal(renewed.Leaf.SerialNumber, (await HandshakeAsync(https, "renew.test")).Leaf.SerialNumber);
            first = renewed.Leaf.SerialNumber;
        }
        // Restart within the lifetime: the stored certificate is served at once, nothing ordered yet.
        await using var again = await StartApplianceAsync(pebble, http, https, "Http01", "renew.test");
        var holder = again.Services.GetRequiredService<CertificateHolder>();
        Assert.Equal(first, holder.Current.Leaf.SerialNumber);
    }

    [Fact]
    public async Task A_certificate_shorter_than_the_check_period_is_renewed_at_its_renewal_point()
    {
        // 30-second certificates from the CA (a test CA, or a future short-lived profile) while the
        // loop looks only every 10 minutes (the default): it must wake at the renewal point itself.
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, validitySeconds: 30);
        await using var appliance = await StartApplianceAsync(pebble, http, https, "Http01", schedule: null, "short.test");
        Assert.Equal(TimeSpan.FromMinutes(10), appliance.Services.GetRequiredService<AcmeSchedule>().CheckInterval);
        var first = await WaitForIssuedAsync(appliance);
        var renewAt = RenewalPolicy.RenewAt(first.Leaf.NotBefore.ToUniversalTime(), first.Leaf.NotAfter.ToUniversalTime());
        Assert.True(renewAt < first.Leaf.NotAfter.ToUniversalTime());

        var renewed = await WaitForIssuedAsync(appliance, notSerial: first.Leaf.SerialNumber, seconds: 45);
        var seen = DateTimeOffset.UtcNow;
        Assert.True(seen < first.Leaf.NotAfter.ToUniversalTime(), $"renewed at {seen:O}, after the first certificate expired at {first.Leaf.NotAfter.ToUniversalTime():O}");
        Assert.True(seen >= renewAt, $"renewed at {seen:O}, before its renewal point {renewAt:O}");
        Assert.Equal(renewed.Leaf.SerialNumber, (await HandshakeAsync(https, "short.test")).Leaf.SerialNumber);
    }

    [Fact]
    public async Task External_account_binding_is_sent_when_the_ca_requires_it()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, requireEab: true);
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.UseTestCa(_state, http, https, pebble.DirectoryUrl, pebble.TrustedRootsFile, "eab.test");
            o.Tls.Acme.EabKeyId = PebbleServer.EabKeyId;
            o.Tls.Acme.EabHmacKey = PebbleServer.EabHmacKey;
        }, services: s => s.AddSingleton(Fast));
        Assert.Contains("Pebble", (await WaitForIssuedAsync(appliance)).Leaf.Issuer);
    }

    [Fact]
    public async Task Without_the_binding_a_ca_that_requires_it_refuses_and_the_loop_keeps_trying()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, requireEab: true);
        await using var appliance = await StartApplianceAsync(pebble, http, https, "Http01", "noeab.test");
        var service = appliance.Services.GetRequiredService<AcmeCertificateService>();
        for (int i = 0; i < 100 && service.Failures < 2; i++) await Task.Delay(100);
        Assert.True(service.Failures >= 2);
        Assert.Null(service.Issued);
    }

    [Fact]
    public async Task A_corrupt_stored_key_is_reported_and_reissued_without_a_crash()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https);
        string first;
        await using (var appliance = await StartApplianceAsync(pebble, http, https, "Http01", "corrupt.test"))
        {
            first = (await WaitForIssuedAsync(appliance)).Leaf.SerialNumber;
        }
        string key = Path.Combine(_state, "acme", "certificate.key.protected");
        File.WriteAllText(key, File.ReadAllText(key)[..20]); // truncated
        await using var again = await StartApplianceAsync(pebble, http, https, "Http01", "corrupt.test");
        var reissued = await WaitForIssuedAsync(again, notSerial: first);
        Assert.NotEqual(first, reissued.Leaf.SerialNumber);
    }

    [Fact]
    public async Task CA_unreachable_serves_a_fallback_backs_off_and_succeeds_once_it_returns()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort(), caPort = TestAppliance.FreeTcpPort();
        // Point the appliance at a CA that is not running yet (same URL Pebble will have).
        using var placeholder = PebbleServer.Start(http, https);
        string directory = placeholder.DirectoryUrl.Replace($":{placeholder.ListenPort}/", $":{caPort}/");
        string roots = Path.Combine(_state, "roots.pem");
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.UseTestCa(_state, http, https, directory, null, "outage.test");
        }, services: s => s.AddSingleton(Fast));
        placeholder.Dispose();
        var service = appliance.Services.GetRequiredService<AcmeCertificateService>();
        var (fallback, _) = await HandshakeAsync(https, "outage.test");
        Assert.Contains("temporary", fallback.Subject);
        for (int i = 0; i < 50 && service.Failures < 2; i++) await Task.Delay(100);
        Assert.True(service.Failures >= 2);

        // The CA comes back on the configured port: the next attempt succeeds.
        using var pebble = PebbleServer.Start(http, https, listenPort: caPort);
        var options = appliance.Services.GetRequiredService<OpenAlgo.Appliance.Configuration.ApplianceOptions>();
        File.Copy(pebble.TrustedRootsFile, roots, overwrite: true);
        options.Tls.Acme.TrustedRootsFile = roots;
        var issued = await WaitForIssuedAsync(appliance);
        Assert.Contains("Pebble", issued.Leaf.Issuer);
        Assert.Equal(0, service.Failures);
    }
}
