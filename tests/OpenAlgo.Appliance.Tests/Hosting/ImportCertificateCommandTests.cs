using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tests.Tls;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary><c>import-certificate</c> through the real executable, then served by a real appliance in Acme mode.</summary>
public sealed class ImportCertificateCommandTests : IDisposable
{
    private const string Domain = "trade.example.test";
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-import-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string State => Path.Combine(_dir, "state");

    private async Task<ApplianceProcess> ImportAsync(string chain, string key, string domain = Domain)
    {
        string certFile = Path.Combine(_dir, "fullchain.pem"), keyFile = Path.Combine(_dir, "privkey.pem"), config = Path.Combine(_dir, "config.json");
        File.WriteAllText(certFile, chain);
        File.WriteAllText(keyFile, key);
        File.WriteAllText(config, "{\"Appliance\": {\"Tls\": {\"Mode\": \"Acme\", \"Domains\": [\"" + domain + "\"], \"Acme\": {\"Email\": \"ops@example.test\", \"AcceptTermsOfService\": true}}}}");
        var process = ApplianceProcess.Start(_dir, new Dictionary<string, string>(), "import-certificate", "--cert", certFile, "--key", keyFile, "--state-directory", State, "--config", config);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return process;
    }

    [Fact]
    public async Task An_imported_certbot_pair_is_served_by_the_next_start_without_contacting_the_CA()
    {
        var pair = CertificateSourcesTests.MakeChain(Domain);
        using (var import = await ImportAsync(pair.Chain, pair.Key))
        {
            Assert.True(import.ExitCode == 0, import.Stderr);
            Assert.Contains("Imported CN=" + Domain, import.Stdout);
        }
        Assert.True(File.Exists(Path.Combine(State, "acme", "certificate.imported")));
        // The key is stored encrypted, never as PEM.
        Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(Path.Combine(State, "acme", "certificate.key.protected")));

        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.StateDirectory = State;
            o.Tls.Mode = TlsMode.Acme;
            o.Tls.Domains = [Domain];
            o.Tls.Acme.Email = "ops@example.test";
            o.Tls.Acme.AcceptTermsOfService = true;
            o.Tls.Acme.DirectoryUrl = "https://127.0.0.1:9/directory"; // nothing listens: the CA is never needed
        });
        var (serial, sent) = await CertificateSourcesTests.ServedAsync(appliance.Https.Port, Domain);
        Assert.Equal(pair.Serial, serial);
        Assert.Equal(2, sent); // leaf + the intermediate from fullchain.pem
    }

    [Fact]
    public async Task A_pair_that_does_not_fit_is_refused_and_nothing_is_written()
    {
        var pair = CertificateSourcesTests.MakeChain(Domain);
        var other = CertificateSourcesTests.MakeChain(Domain);
        using (var mismatched = await ImportAsync(pair.Chain, other.Key))
        {
            Assert.Equal(1, mismatched.ExitCode);
            Assert.StartsWith("import-certificate: cannot use ", mismatched.Stderr);
        }
        using (var wrongName = await ImportAsync(pair.Chain, pair.Key, domain: "other.example.test"))
        {
            Assert.Equal(1, wrongName.ExitCode);
            Assert.StartsWith("Appliance:Tls:Domains: the certificate does not cover other.example.test. Fix:", wrongName.Stderr);
        }
        Assert.False(File.Exists(Path.Combine(State, "acme", "certificate.pem")));
    }
}
