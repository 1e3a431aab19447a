using System.Security.Cryptography;
using System.Text;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Auth;

/// <summary>
/// Keys from configuration (<c>Auth:StaticKeys</c>), plain or <c>sha256:&lt;hex&gt;</c>. Only SHA-256
/// digests are kept in memory, and every stored digest is compared in constant time, so neither
/// timing nor a memory dump reveals a key.
/// </summary>
internal sealed class StaticKeyAuthenticator : IApiKeyAuthenticator
{
    private readonly (byte[] Digest, string UserId, string Broker)[] _keys;

    public StaticKeyAuthenticator(IEnumerable<StaticKeyOptions> keys)
    {
        _keys = keys.Select(k => (Digest(k.Key), k.UserId, k.Broker)).ToArray();
    }

    public int Count => _keys.Length;

    public ValueTask<ApiKeyCheck> CheckAsync(string apiKey, CancellationToken cancellationToken)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(apiKey), digest);
        int match = -1;
        for (int i = 0; i < _keys.Length; i++)
        {
            // No early exit: the time taken does not depend on which key (if any) matched.
            if (CryptographicOperations.FixedTimeEquals(digest, _keys[i].Digest) && match < 0) match = i;
        }
        return ValueTask.FromResult(match < 0
            ? ApiKeyCheck.Invalid
            : new ApiKeyCheck(ApiKeyCheckStatus.Valid, _keys[match].UserId, _keys[match].Broker));
    }

    private static byte[] Digest(string configured)
    {
        if (configured.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            return Convert.FromHexString(configured.AsSpan(7));
        }
        return SHA256.HashData(Encoding.UTF8.GetBytes(configured));
    }
}
