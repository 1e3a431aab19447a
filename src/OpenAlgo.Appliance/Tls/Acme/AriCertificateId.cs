using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>RFC 9773 §4.1: certID = base64url(AKI keyIdentifier) "." base64url(serial number DER content).</summary>
internal static class AriCertificateId
{
    public static string? Of(X509Certificate2 certificate)
    {
        var aki = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault();
        if (aki?.KeyIdentifier is not { } keyId) return null;
        return Base64Url.Encode(keyId.Span) + "." + Base64Url.Encode(certificate.SerialNumberBytes.Span);
    }
}
