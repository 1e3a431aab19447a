using System.Security.Cryptography;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>The demo's API key: 64 hex digits like OpenAlgo's, made once and kept in <c>StateDirectory/demo-api-key</c> (0600).</summary>
internal static class DemoKeyStore
{
    public static string LoadOrCreate(string stateDirectory)
    {
        string path = Path.Combine(stateDirectory, "demo-api-key");
        if (File.Exists(path))
        {
            string existing = File.ReadAllText(path).Trim();
            if (existing.Length == 64 && existing.All(char.IsAsciiHexDigitLower)) return existing;
        }
        string key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        AtomicFile.EnsurePrivateDirectory(stateDirectory);
        AtomicFile.WriteAllText(path, key + "\n");
        return key;
    }
}
