using System.Security.Cryptography;
using System.Text;

namespace OpenAlgo.Appliance.Auth;

/// <summary>How an API key appears in logs: the first 8 hex digits of its SHA-256, never the key.</summary>
internal static class ApiKeyFingerprint
{
    public static string Of(string apiKey)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(apiKey), digest);
        return "key#" + Convert.ToHexStringLower(digest[..4]);
    }
}
