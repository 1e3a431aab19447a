using System.Runtime.InteropServices;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// Mozilla's "intermediate" TLS policy, enforced by the binary itself: TLS 1.2/1.3 only, ECDHE with
/// AEAD suites only, X25519/P-256/P-384. .NET has no API for groups, and its CipherSuitesPolicy
/// turns session resumption off (it disables SSL_CTX caching), so the policy goes to OpenSSL as a
/// process configuration file instead — written next to the state and announced with OPENSSL_CONF
/// through libc's setenv before OpenSSL first initializes. An operator's own OPENSSL_CONF wins.
/// </summary>
internal static partial class OpenSslPolicy
{
    public const string TlsTwelveCiphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    public const string TlsThirteenSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    public const string Groups = "X25519:P-256:P-384";

    public static string Configuration => $"""
        # Written by openalgo-appliance: Mozilla intermediate (ssl-config guidelines 5.7/6.0).
        openssl_conf = openssl_init

        [openssl_init]
        ssl_conf = ssl_sect

        [ssl_sect]
        system_default = system_default_sect

        [system_default_sect]
        MinProtocol = TLSv1.2
        CipherString = {TlsTwelveCiphers}
        Ciphersuites = {TlsThirteenSuites}
        Groups = {Groups}
        Options = NoRenegotiation

        """;

    /// <summary>Must run before anything touches cryptography (first thing in Main). Returns the file used, or null.</summary>
    public static string? Apply(string directory)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OPENSSL_CONF"))) return null;
        try
        {
            Directory.CreateDirectory(directory);
            string path = Path.Combine(directory, "openssl-policy.cnf");
            if (!File.Exists(path) || File.ReadAllText(path) != Configuration)
            {
                AtomicFile.WriteAllText(path, Configuration, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
            // Environment.SetEnvironmentVariable changes only .NET's copy; OpenSSL reads the C environment.
            return SetEnv("OPENSSL_CONF", path, 1) == 0 ? path : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
