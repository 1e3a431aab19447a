using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// Answers the CA's validation requests while an order is open: HTTP-01 tokens on the HTTP
/// listener (<c>/.well-known/acme-challenge/{token}</c>) and TLS-ALPN-01 certificates (RFC 8737)
/// for handshakes that offer exactly <c>acme-tls/1</c>.
/// </summary>
internal sealed class AcmeChallengeResponder
{
    public const string HttpPathPrefix = "/.well-known/acme-challenge/";
    public static readonly SslApplicationProtocol AcmeTls = new("acme-tls/1");

    private readonly ConcurrentDictionary<string, string> _http01 = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SslStreamCertificateContext> _tlsAlpn01 = new(StringComparer.OrdinalIgnoreCase);

    public void AddHttp01(string token, string keyAuthorization) => _http01[token] = keyAuthorization;
    public void RemoveHttp01(string token) => _http01.TryRemove(token, out _);

    public bool TryGetHttp01(string token, out string keyAuthorization) => _http01.TryGetValue(token, out keyAuthorization!);

    public void AddTlsAlpn01(string name, string keyAuthorization) => _tlsAlpn01[name] = CreateValidationCertificate(name, keyAuthorization);
    public void RemoveTlsAlpn01(string name) => _tlsAlpn01.TryRemove(name, out _);

    public bool TryGetTlsAlpn01(string? name, out SslStreamCertificateContext context)
    {
        context = null!;
        return name is not null && _tlsAlpn01.TryGetValue(name, out context!);
    }

    public static bool IsHttp01Path(string path) => path.StartsWith(HttpPathPrefix, StringComparison.Ordinal);

    /// <summary>Answers a request for <c>/.well-known/acme-challenge/{token}</c>: the key authorization, or 404 for a token no order is waiting on.</summary>
    public Task AnswerHttp01Async(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        if (IsHttp01Path(path) && TryGetHttp01(path[HttpPathPrefix.Length..], out string keyAuthorization))
        {
            context.Response.ContentType = "application/octet-stream";
            return context.Response.WriteAsync(keyAuthorization);
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    // RFC 8737 §3: self-signed, one dNSName, critical id-pe-acmeIdentifier = OCTET STRING(SHA-256(keyAuthorization)).
    private static SslStreamCertificateContext CreateValidationCertificate(string name, string keyAuthorization)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(keyAuthorization));
        request.CertificateExtensions.Add(new X509Extension(new Oid("1.3.6.1.5.5.7.1.31"), [0x04, 0x20, .. digest], critical: true));
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return CertificateContexts.Create(certificate, null);
    }
}
