using System.Security.Cryptography;
using System.Text;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// The ES256 account key: JWK, RFC 7638 thumbprint and JWS signatures. ES256 signatures are the
/// raw r‖s (IEEE P1363), which is what ECDsa.SignData produces; DER would be refused.
/// </summary>
internal sealed class AcmeAccountKey : IDisposable
{
    private AcmeAccountKey(ECDsa key)
    {
        Key = key;
        var parameters = key.ExportParameters(includePrivateParameters: false);
        X = Base64Url.Encode(parameters.Q.X);
        Y = Base64Url.Encode(parameters.Q.Y);
        // RFC 7638: required members only, lexicographic order, no whitespace.
        Thumbprint = Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{X}\",\"y\":\"{Y}\"}}")));
    }

    public ECDsa Key { get; }
    public string X { get; }
    public string Y { get; }
    public string Thumbprint { get; }

    /// <summary>The public JWK as it goes into a protected header.</summary>
    public string Jwk => $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{X}\",\"y\":\"{Y}\"}}";

    public static AcmeAccountKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static AcmeAccountKey FromPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return new AcmeAccountKey(key);
    }

    public byte[] ExportPkcs8() => Key.ExportPkcs8PrivateKey();

    public string KeyAuthorization(string token) => token + "." + Thumbprint;

    public byte[] Sign(ReadOnlySpan<byte> data) => Key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose() => Key.Dispose();
}
