using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace OpenAlgo.Appliance.Auth.Database;

/// <summary>
/// Argon2id verification with the reference implementation, the system's <c>libargon2.so.1</c>
/// (Debian <c>libargon2-1</c> — the same library Debian's python3-argon2, i.e. OpenAlgo's
/// argon2-cffi, uses). Parameters, salt and version come from the PHC string OpenAlgo stored.
/// </summary>
internal static partial class Argon2Verifier
{
    private const string Library = "libargon2.so.1";
    private const int Ok = 0;
    private const int VerifyMismatch = -35;

    /// <summary>True when <paramref name="secret"/> matches <paramref name="encodedHash"/>; false on mismatch or a malformed hash.</summary>
    public static bool Verify(string encodedHash, string secret)
    {
        if (!encodedHash.StartsWith("$argon2id$", StringComparison.Ordinal)) return false;
        byte[] password = Encoding.UTF8.GetBytes(secret);
        byte[] encoded = Encoding.UTF8.GetBytes(encodedHash + "\0");
        try
        {
            int result = argon2id_verify(encoded, password, (nuint)password.Length);
            return result switch
            {
                Ok => true,
                VerifyMismatch => false,
                _ => false, // a malformed stored hash matches nothing, as argon2-cffi's InvalidHash does
            };
        }
        catch (DllNotFoundException ex)
        {
            throw new DatabaseUnavailableException($"{Library} is not installed (apt install libargon2-1)", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    /// <summary>Loads the library now, so a missing package is reported at startup rather than at the first client.</summary>
    public static void EnsureAvailable()
    {
        try
        {
            argon2id_verify([0], [], 0);
        }
        catch (DllNotFoundException ex)
        {
            throw new DatabaseUnavailableException($"{Library} is not installed (apt install libargon2-1)", ex);
        }
    }

    [LibraryImport(Library)]
    private static partial int argon2id_verify(byte[] encoded, byte[] password, nuint passwordLength);
}
