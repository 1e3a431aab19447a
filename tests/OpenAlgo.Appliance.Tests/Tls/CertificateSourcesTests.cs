using OpenAlgo.Appliance.Configuration;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Tls;

public sealed class CertificateSourcesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-certs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (string Chain, string Key, string Serial) MakeChain(string name)
    {
        // root → intermediate → leaf; fullchain.pem holds leaf + intermediate, as certbot writes it.
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=test root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60));
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=test intermediate", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var caPublic = caRequest.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
        using var ca = caPublic.CopyWithPrivateKey(caKey);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        using var leaf = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), RandomNumberGenerator.GetBytes(8));
        return (leaf.ExportCertificatePem() + "\n" + ca.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), leaf.SerialNumber);
    }

    internal static async Task<(string Serial, int Sent)> ServedAsync(int port, string name)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        string serial = "";
        int sent = 0;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, chain, _) =>
        {
            serial = new X509Certificate2(cert!).SerialNumber;
            sent = chain?.ChainPolicy.ExtraStore.Count ?? 0;
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = name });
        return (serial, sent);
    }

    [Fact]
    public async Task Files_mode_serves_the_full_chain_and_swaps_without_restart_keeping_the_old_one_on_a_broken_write()
    {
        string certFile = Path.Combine(_dir, "fullchain.pem"), keyFile = Path.Combine(_dir, "privkey.pem");
        var first = MakeChain("files.test");
        File.WriteAllText(certFile, first.Chain);
        File.WriteAllText(keyFile, first.Key);
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Mode = TlsMode.Files;
            o.Tls.CertificateFile = certFile;
            o.Tls.KeyFile = keyFile;
        });
        var served = await ServedAsync(appliance.Https.Port, "files.test");
        Assert.Equal(first.Serial, served.Serial);
        Assert.Equal(2, served.Sent); // leaf + intermediate

        var second = MakeChain("files.test");
        File.WriteAllText(certFile, second.Chain);
        File.WriteAllText(keyFile, second.Key);
        var source = appliance.Services.GetRequiredService<PemFileCertificateSource>();
        source.ReloadIfChanged(); // what the 30 s poll does
        Assert.Equal(second.Serial, (await ServedAsync(appliance.Https.Port, "files.test")).Serial);

        File.WriteAllText(keyFile, "-----BEGIN PRIVATE KEY-----\ntruncated");
        source.ReloadIfChanged();
        Assert.Equal(second.Serial, (await ServedAsync(appliance.Https.Port, "files.test")).Serial);
    }

    [Fact]
    public async Task Self_signed_certificate_is_kept_across_restarts_and_remade_when_domains_change()
    {
        string state = Path.Combine(_dir, "state");
        string first;
        await using (var appliance = await TestAppliance.StartAsync(o => { o.StateDirectory = state; o.Tls.Domains = ["one.test"]; }))
        {
            first = (await ServedAsync(appliance.Https.Port, "one.test")).Serial;
        }
        Assert.Equal(Convert.ToInt32("600", 8), (int)File.GetUnixFileMode(Path.Combine(state, "tls", "self-signed.key.pem")));
        await using (var again = await TestAppliance.StartAsync(o => { o.StateDirectory = state; o.Tls.Domains = ["one.test"]; }))
        {
            Assert.Equal(first, (await ServedAsync(again.Https.Port, "one.test")).Serial);
        }
        await using var changed = await TestAppliance.StartAsync(o => { o.StateDirectory = state; o.Tls.Domains = ["one.test", "two.test"]; });
        Assert.NotEqual(first, (await ServedAsync(changed.Https.Port, "two.test")).Serial);
    }
}
