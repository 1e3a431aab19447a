using System.Diagnostics;
using System.Xml.Linq;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Tls;

/// <summary>
/// The served endpoint scanned with Debian's sslscan (and openssl s_client for resumption): Mozilla
/// intermediate or the test fails. The executable is run as a user would run it by hand — no unit
/// environment — so the policy must come from the binary itself.
/// </summary>
public sealed class TlsPolicyTests : IDisposable
{
    private static readonly HashSet<string> AllowedTls12 =
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ];
    private static readonly HashSet<string> AllowedTls13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];
    private static readonly HashSet<string> AllowedGroups = ["x25519", "secp256r1", "prime256v1", "secp384r1"];

    private readonly string _dir = Directory.CreateTempSubdirectory("oa-tls-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Served_endpoint_meets_mozilla_intermediate_keeps_resumption_and_sends_hsts()
    {
        if (!File.Exists("/usr/bin/sslscan")) Assert.Fail("sslscan (Debian package sslscan) is required; .ci/run installs it");
        int https = TestAppliance.FreeTcpPort();
        var env = new Dictionary<string, string>
        {
            ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["TMPDIR"] = _dir,
        };
        using var demo = ApplianceProcess.Start(_dir, env, "demo");
        await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(30));

        string xmlPath = Path.Combine(_dir, "scan.xml");
        var (exit, output) = Processes.Run("sslscan", null, "--no-colour", "--sni-name=localhost", $"--xml={xmlPath}", $"127.0.0.1:{https}");
        Assert.True(exit == 0, output);
        var scan = XDocument.Load(xmlPath).Root!.Element("ssltest")!;

        var enabled = scan.Elements("protocol").Where(p => (string?)p.Attribute("enabled") == "1")
            .Select(p => $"{p.Attribute("type")?.Value}{p.Attribute("version")?.Value}".ToUpperInvariant()).ToList();
        Assert.Equal(["TLS1.2", "TLS1.3"], enabled.Order().ToList());

        var ciphers = scan.Elements("cipher").Select(c => (Version: (string)c.Attribute("sslversion")!, Name: (string)c.Attribute("cipher")!)).ToList();
        Assert.NotEmpty(ciphers);
        foreach (var (version, name) in ciphers)
        {
            Assert.True(version == "TLSv1.3" ? AllowedTls13.Contains(name) : version == "TLSv1.2" && AllowedTls12.Contains(name), $"{version} {name} is outside Mozilla intermediate");
        }
        foreach (var group in scan.Elements("group").Select(g => (string)g.Attribute("name")!))
        {
            Assert.True(AllowedGroups.Any(a => group.Contains(a, StringComparison.OrdinalIgnoreCase)), $"group {group}");
        }
        var renegotiation = scan.Element("renegotiation");
        Assert.True(renegotiation is null || (string?)renegotiation.Attribute("supported") == "0", renegotiation?.ToString());

        // Session resumption survives the policy (CipherSuitesPolicy would have turned it off).
        if (File.Exists("/usr/bin/openssl"))
        {
            var (_, reconnect) = Processes.Run("sh", null, "-c", $"echo | openssl s_client -connect 127.0.0.1:{https} -servername localhost -reconnect -tls1_2 2>/dev/null");
            Assert.Contains("Reused, TLSv1.2", reconnect);
        }

        using var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var response = await client.GetAsync($"https://localhost:{https}/ws");
        Assert.Equal("max-age=63072000", response.Headers.GetValues("Strict-Transport-Security").Single());
    }

    /// <summary>An OPENSSL_CONF from the environment would replace the policy: the edge does not start on OpenSSL's defaults.</summary>
    [Fact]
    public async Task A_preset_OPENSSL_CONF_stops_the_start_naming_the_cause_and_the_fix()
    {
        var env = new Dictionary<string, string>
        {
            ["OPENSSL_CONF"] = "/etc/ssl/openssl.cnf",
            ["Appliance__Listen__Https"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
        };
        foreach (var command in new[] { "demo", "run" })
        {
            using var process = ApplianceProcess.Start(_dir, env, command);
            Assert.Equal(1, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.StartsWith("OPENSSL_CONF: is set to '/etc/ssl/openssl.cnf', so OpenSSL would read that file instead of the appliance's TLS policy", process.Stderr);
            Assert.Contains("Fix: unset OPENSSL_CONF for the appliance", process.Stderr);
            Assert.DoesNotContain("   at ", process.Stderr);
            Assert.DoesNotContain("Demo API key", process.Stdout);
        }
    }

    /// <summary>
    /// RUNTIME_DIRECTORY that cannot hold the policy file (here: below a regular file, which even root
    /// cannot write): the policy is loaded from a private temporary file instead, which is gone afterwards.
    /// </summary>
    [Fact]
    public async Task An_unusable_runtime_directory_still_gets_the_policy_applied()
    {
        if (!File.Exists("/usr/bin/openssl")) Assert.Fail("openssl (Debian package openssl) is required; .ci/run installs it");
        string notADirectory = Path.Combine(_dir, "not-a-directory");
        File.WriteAllText(notADirectory, "");
        string temp = Directory.CreateDirectory(Path.Combine(_dir, "tmp")).FullName;
        int https = TestAppliance.FreeTcpPort();
        var env = new Dictionary<string, string>
        {
            ["RUNTIME_DIRECTORY"] = Path.Combine(notADirectory, "run"),
            ["TMPDIR"] = temp,
            ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
        };
        using var demo = ApplianceProcess.Start(_dir, env, "demo");
        await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(60));
        Assert.Contains("RUNTIME_DIRECTORY is not usable", demo.Stdout);

        // Without the policy .NET on OpenSSL accepts CBC suites with SHA-2 MACs and the X448 group
        // (measured); Mozilla intermediate accepts neither.
        Assert.Contains("Cipher is (NONE)", Handshake(https, "-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256"));
        Assert.Contains("Cipher is (NONE)", Handshake(https, "-tls1_3 -groups X448"));
        Assert.Contains("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256", Handshake(https, "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"));
        Assert.Contains("Cipher is TLS_AES_128_GCM_SHA256", Handshake(https, "-tls1_3 -groups X25519 -ciphersuites TLS_AES_128_GCM_SHA256"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp, "openalgo-appliance-*")); // (the runtime's own diagnostic pipes live here too)
    }

    private static string Handshake(int port, string options)
    {
        var (_, output) = Processes.Run("sh", null, "-c", $"echo | openssl s_client -connect 127.0.0.1:{port} -servername localhost {options} 2>&1");
        return output;
    }
}
