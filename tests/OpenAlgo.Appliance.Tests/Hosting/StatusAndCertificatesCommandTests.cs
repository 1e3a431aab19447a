using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary><c>openalgo-appliance status</c> and <c>openalgo-appliance certificates</c>, run as the docs write them (the real executable, configured by environment).</summary>
public sealed class StatusAndCertificatesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-status-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(Dictionary<string, string> environment, params string[] args)
    {
        using var process = ApplianceProcess.Start(_dir, environment, args);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, process.Stdout, process.Stderr);
    }

    [Fact]
    public async Task Status_prints_the_running_services_picture_and_exits_0_when_healthy()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 1}");

        var (exit, stdout, stderr) = await RunAsync(new() { ["Appliance__Listen__Admin"] = $"127.0.0.1:{appliance.Admin!.Port}" }, "status");
        Assert.True(exit == 0, stdout + stderr);
        Assert.StartsWith("● openalgo-appliance ", stdout);
        Assert.Contains("— healthy, up ", stdout);
        Assert.Contains("site default: healthy", stdout);
        Assert.Contains("Certificate:   localhost, 127.0.0.1, ::1 (localhost), ", stdout);
        Assert.Contains(" days left, expires ", stdout);
        Assert.Contains("Source:        Zmq — up: ZeroMQ bus tcp://127.0.0.1:", stdout);
        Assert.Contains("Clients:       1 (1 wss, 0 internal), 1 users; subscribed symbols 1 ltp, 0 quote, 0 depth", stdout);
        Assert.Contains("testuser: 1 wss, 0 internal", stdout);
        Assert.Contains("Rates:         ", stdout);
    }

    [Fact]
    public async Task Status_exits_1_naming_the_problem_when_healthz_would_say_503()
    {
        int closed = TestAppliance.FreeTcpPort();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Mode = OpenAlgo.Appliance.Configuration.TlsMode.Acme;
            o.Tls.Domains = ["unreachable-ca.test"];
            o.Tls.Acme.DirectoryUrl = $"https://127.0.0.1:{closed}/dir";
            o.Tls.Acme.AcceptTermsOfService = true;
        }, services: s => s.AddSingleton(new AcmeSchedule(TimeSpan.FromSeconds(1), _ => TimeSpan.FromMinutes(5))));

        var (exit, stdout, stderr) = await RunAsync(new() { ["Appliance__Listen__Admin"] = $"127.0.0.1:{appliance.Admin!.Port}" }, "status");
        Assert.True(exit == 1, stdout + stderr);
        Assert.StartsWith("× openalgo-appliance ", stdout);
        Assert.Contains("UNHEALTHY (1 problem)", stdout);
        Assert.Contains("site default: UNHEALTHY", stdout);
        Assert.Contains("Problem:       serving a temporary self-signed certificate: ACME has not issued one yet", stdout);
    }

    [Fact]
    public async Task Status_says_so_and_exits_3_when_no_service_answers_or_the_admin_listener_is_off()
    {
        int nothing = TestAppliance.FreeTcpPort();
        var (exit, stdout, stderr) = await RunAsync(new() { ["Appliance__Listen__Admin"] = $"127.0.0.1:{nothing}" }, "status");
        Assert.Equal(3, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"openalgo-appliance is not running, or its admin listener does not answer on 127.0.0.1:{nothing}", stderr);

        (exit, _, stderr) = await RunAsync(new() { ["Appliance__Listen__Admin"] = "" }, "status");
        Assert.Equal(3, exit);
        Assert.StartsWith("The admin listener is off (Appliance:Listen:Admin is empty)", stderr);
    }

    private Dictionary<string, string> AcmeEnvironment(string state) => new()
    {
        ["Appliance__Tls__Mode"] = "Acme",
        ["Appliance__Tls__Domains__0"] = "trade.example.com",
        ["Appliance__Tls__Acme__AcceptTermsOfService"] = "true",
        ["Appliance__StateDirectory"] = state,
    };

    private static (string ChainPem, string KeyPem, X509Certificate2 Leaf) MakeCertificate(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Test Issuing CA R7, O=Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(notBefore.AddDays(-1), notAfter.AddDays(30));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=trade.example.com", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("trade.example.com");
        request.CertificateExtensions.Add(san.Build());
        var leaf = request.Create(ca, notBefore, notAfter, [0x04, 0xa1, 0xb2, 0xc3]);
        return (leaf.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem(), leaf);
    }

    [Fact]
    public async Task Certificates_lists_an_imported_certificate_with_the_ARI_renewal_window_and_the_last_error()
    {
        string state = Path.Combine(_dir, "state");
        var notBefore = DateTimeOffset.UtcNow.AddDays(-10);
        var (chain, key, leaf) = MakeCertificate(notBefore, notBefore.AddDays(90));
        new AcmeStore(state).SaveCertificate(chain, key, imported: true);
        var ariStart = DateTimeOffset.UtcNow.AddDays(20);
        // What the running service keeps: the moment it chose in the CA's window, and its last error.
        new AcmeStore(state).SaveRenewalWindow(new RenewalWindow(leaf.SerialNumber, ariStart, ariStart.AddDays(2), ariStart.AddHours(31), DateTimeOffset.UtcNow.AddHours(6)));
        AcmeStatusFile.Write(AcmeStore.DirectoryIn(state), new AcmeStatus("urn:ietf:params:acme:error:connection: could not connect to trade.example.com:80", new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero), 3));

        var (exit, stdout, stderr) = await RunAsync(AcmeEnvironment(state), "certificates");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("  Site: default\n    Mode: Acme\n    Configured domains: trade.example.com\n", stdout);
        Assert.Contains("    Domains: trade.example.com\n", stdout);
        Assert.Contains("    Issuer: Test Issuing CA R7\n", stdout);
        Assert.Contains("    Serial Number: 04a1b2c3\n", stdout);
        Assert.Contains($"    Expiry Date: {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}+00:00 (VALID: 79 days)", stdout);
        Assert.Contains("    Source: imported (import-certificate), renewed over ACME by the appliance\n", stdout);
        Assert.Contains($"    Next Renewal: {ariStart.AddHours(31):yyyy-MM-dd HH:mm} UTC, inside the CA's ARI renewal window\n", stdout);
        Assert.Contains("    Last Error: 2026-12-01 08:30 UTC: urn:ietf:params:acme:error:connection: could not connect to trade.example.com:80 (3 failed attempts since the service started)\n", stdout);
    }

    [Fact]
    public async Task Certificates_names_the_rule_that_sets_the_renewal_two_thirds_or_emergency()
    {
        string state = Path.Combine(_dir, "state");
        var notBefore = DateTimeOffset.UtcNow.AddDays(-5);
        var (chain, key, leaf) = MakeCertificate(notBefore, notBefore.AddDays(90));
        new AcmeStore(state).SaveCertificate(chain, key);

        var (exit, stdout, _) = await RunAsync(AcmeEnvironment(state), "certificates");
        Assert.Equal(0, exit);
        Assert.Contains("    Source: issued over ACME by the appliance\n", stdout);
        Assert.Contains($"    Next Renewal: {notBefore.AddDays(60):yyyy-MM-dd HH:mm} UTC, at 2/3 of the lifetime\n", stdout);
        Assert.DoesNotContain("Last Error", stdout); // the service has noted nothing yet

        // The CA's window lies past the emergency point (1/20 of the lifetime before expiry): the emergency point wins.
        new AcmeStore(state).SaveRenewalWindow(new RenewalWindow(leaf.SerialNumber, notBefore.AddDays(88), notBefore.AddDays(89), notBefore.AddDays(88.5), DateTimeOffset.UtcNow.AddHours(6)));
        AcmeStatusFile.Write(AcmeStore.DirectoryIn(state), new AcmeStatus(null, null, 0));
        (exit, stdout, _) = await RunAsync(AcmeEnvironment(state), "certificates");
        Assert.Equal(0, exit);
        Assert.Contains($"    Next Renewal: {notBefore.AddDays(90 - 4.5):yyyy-MM-dd HH:mm} UTC, emergency: 1/20 of the lifetime before expiry", stdout);
        Assert.Contains("    Last Error: none\n", stdout);
    }

    [Fact]
    public async Task Certificates_exits_1_when_acme_has_issued_nothing_yet_and_shows_self_signed_ones()
    {
        string state = Path.Combine(_dir, "state");
        var (exit, stdout, _) = await RunAsync(AcmeEnvironment(state), "certificates");
        Assert.Equal(1, exit);
        Assert.Contains("    Status: no certificate issued yet: the service serves a temporary self-signed one until ACME succeeds\n", stdout);

        // A self-signed site, as a previous run of the service left it.
        await using (await TestAppliance.StartAsync(o => o.StateDirectory = state)) { }
        (exit, stdout, _) = await RunAsync(new() { ["Appliance__Tls__Mode"] = "SelfSigned", ["Appliance__StateDirectory"] = state }, "certificates");
        Assert.Equal(0, exit);
        Assert.Contains("    Mode: SelfSigned\n", stdout);
        Assert.Contains("    Domains: localhost 127.0.0.1 ::1\n", stdout);
        Assert.Contains("    Source: self-signed by the appliance\n", stdout);
        Assert.Contains("UTC, 30 days before expiry (self-signed)\n", stdout);
    }
}
