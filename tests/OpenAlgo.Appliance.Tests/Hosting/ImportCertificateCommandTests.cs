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

    /// <summary>
    /// docs/migrate-from-nginx.md step 4, as written: root, in some directory of its own, on a package
    /// install (/etc/openalgo-appliance holds the configuration), no --state-directory. The package's
    /// /etc and /var/lib are overlays in a private mount namespace, so the host is not touched.
    /// </summary>
    [Fact]
    public async Task On_a_package_install_the_certificate_goes_to_the_service_state_directory_and_to_its_user()
    {
        PrivateMounts.Require();
        var pair = CertificateSourcesTests.MakeChain(Domain);
        string letsencrypt = Path.Combine(_dir, "letsencrypt", "live", Domain);
        Directory.CreateDirectory(letsencrypt);
        File.WriteAllText(Path.Combine(letsencrypt, "fullchain.pem"), pair.Chain);
        File.WriteAllText(Path.Combine(letsencrypt, "privkey.pem"), pair.Key);
        string packageConfig = Path.Combine(_dir, "appsettings.Production.json");
        File.WriteAllText(packageConfig, "{\"Appliance\": {\"Tls\": {\"Mode\": \"Acme\", \"Domains\": [\"" + Domain + "\"], \"Acme\": {\"Email\": \"ops@example.test\", \"AcceptTermsOfService\": true}}}}");
        string home = Path.Combine(_dir, "home");
        Directory.CreateDirectory(home);
        const string Uid = "64123";
        string[] wrapper = PrivateMounts.Wrapper(_dir, ["/etc", "/var/lib"], $$"""
            rm -rf /etc/openalgo-appliance /var/lib/openalgo-appliance
            mkdir -p /etc/openalgo-appliance
            cp {{packageConfig}} /etc/openalgo-appliance/appsettings.Production.json
            sed -i '/^openalgo-appliance:/d' /etc/passwd /etc/group
            echo 'openalgo-appliance:x:{{Uid}}:{{Uid}}:OpenAlgo Appliance:/nonexistent:/usr/sbin/nologin' >> /etc/passwd
            echo 'openalgo-appliance:x:{{Uid}}:' >> /etc/group
            """, out string upper);
        // What systemd sets for the service only; an operator's shell has none of it.
        var environment = new Dictionary<string, string> { ["STATE_DIRECTORY"] = "", ["CONFIGURATION_DIRECTORY"] = "" };
        using (var import = ApplianceProcess.StartUnder(wrapper, home, environment,
            "import-certificate", "--cert", $"{letsencrypt}/fullchain.pem", "--key", $"{letsencrypt}/privkey.pem"))
        {
            await import.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.True(import.ExitCode == 0, import.Stdout + import.Stderr);
            Assert.Contains("into /var/lib/openalgo-appliance/acme.", import.Stdout);
        }
        Assert.False(Directory.Exists(Path.Combine(home, "state")), "written to ./state of the operator's directory");
        string state = Path.Combine(upper, "var/lib/openalgo-appliance");
        Assert.True(File.Exists(Path.Combine(state, "acme", "certificate.imported")));
        // Handed to the service user, so the service can read its key ring and certificate.
        var (_, owners) = Processes.Run("find", null, state, "!", "-uid", Uid);
        Assert.Equal("", owners.Trim());

        // And the service on that state serves it without asking the CA.
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.StateDirectory = state;
            o.Tls.Mode = TlsMode.Acme;
            o.Tls.Domains = [Domain];
            o.Tls.Acme.Email = "ops@example.test";
            o.Tls.Acme.AcceptTermsOfService = true;
            o.Tls.Acme.DirectoryUrl = "https://127.0.0.1:9/directory";
        });
        Assert.Equal(pair.Serial, (await CertificateSourcesTests.ServedAsync(appliance.Https.Port, Domain)).Serial);
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
