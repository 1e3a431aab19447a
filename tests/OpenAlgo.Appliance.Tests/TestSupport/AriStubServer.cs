using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// The renewalInfo side of an ACME CA (RFC 9773), over real HTTPS on loopback: Debian's Pebble 2.4
/// has no ARI, so the window a CA suggests is served here. It answers the directory and
/// <c>renewalInfo/{certID}</c> with <see cref="Window"/> and <see cref="RetryAfterSeconds"/>; every
/// other ACME call fails (no nonce), which the renewal loop counts as a failed attempt.
/// </summary>
internal sealed class AriStubServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dir;
    private int _renewalInfoRequests;

    private AriStubServer(WebApplication app, string dir)
    {
        _app = app;
        _dir = dir;
    }

    public (DateTimeOffset Start, DateTimeOffset End) Window { get; set; }
    public int RetryAfterSeconds { get; set; } = 86400;
    public int RenewalInfoRequests => Volatile.Read(ref _renewalInfoRequests);
    public string? LastCertificateId { get; private set; }
    public string DirectoryUrl { get; private set; } = "";
    public string TrustedRootsFile => Path.Combine(_dir, "ca.pem");

    public static async Task<AriStubServer> StartAsync()
    {
        string dir = Directory.CreateTempSubdirectory("oa-ari-").FullName;
        var serverCertificate = WriteCertificates(dir);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(serverCertificate)));
        var app = builder.Build();
        var stub = new AriStubServer(app, dir);
        app.MapGet("/dir", (HttpContext c) =>
        {
            string root = $"https://{c.Request.Host}";
            return Results.Text($$"""{"newNonce":"{{root}}/nonce","newAccount":"{{root}}/account","newOrder":"{{root}}/order","renewalInfo":"{{root}}/renewal-info/"}""", "application/json");
        });
        app.MapGet("/renewal-info/{id}", (HttpContext c, string id) =>
        {
            Interlocked.Increment(ref stub._renewalInfoRequests);
            stub.LastCertificateId = id;
            c.Response.Headers.RetryAfter = stub.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (start, end) = stub.Window;
            string json = $$$"""{"suggestedWindow":{"start":"{{{start.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}}","end":"{{{end.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}}"}}""";
            return Results.Text(json, "application/json");
        });
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        stub.DirectoryUrl = $"https://127.0.0.1:{port}/dir";
        return stub;
    }

    private static X509Certificate2 WriteCertificates(string dir)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=ari-stub-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        return cert.CopyWithPrivateKey(key);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
