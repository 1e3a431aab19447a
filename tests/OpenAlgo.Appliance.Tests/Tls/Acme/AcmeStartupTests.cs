using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls.Acme;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Tls.Acme;

/// <summary>What a start says about the certificate it found in the state directory.</summary>
public sealed class AcmeStartupTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("oa-acme-start-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_state, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task An_expired_stored_certificate_is_named_with_its_end_not_called_the_first_one()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=expired.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("expired.test");
        request.CertificateExtensions.Add(names.Build());
        var notAfter = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        using (var certificate = request.CreateSelfSigned(notAfter.AddDays(-90), notAfter))
        {
            new AcmeStore(_state).SaveCertificate(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        }
        var log = new LogCapture();
        int closed = TestAppliance.FreeTcpPort();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.StateDirectory = _state;
            o.Tls.Mode = TlsMode.Acme;
            o.Tls.Domains = ["expired.test"];
            o.Tls.Acme.DirectoryUrl = $"https://127.0.0.1:{closed}/dir";
            o.Tls.Acme.AcceptTermsOfService = true;
        }, services: s =>
        {
            s.AddSingleton(new AcmeSchedule(TimeSpan.FromMinutes(5), _ => TimeSpan.FromMinutes(5)));
            log.Register(s);
        });
        Assert.True(log.Contains("expired at 2026-01-02 03:04:05Z; serving a temporary self-signed certificate for expired.test until a new one is issued"), string.Join("\n", log.Lines));
        Assert.False(log.Contains("until the first certificate is issued"));
    }
}
