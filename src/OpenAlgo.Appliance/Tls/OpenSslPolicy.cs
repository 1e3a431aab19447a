using System.Runtime.InteropServices;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// Mozilla's "intermediate" TLS policy, enforced by the binary itself: TLS 1.2/1.3 only, ECDHE with
/// AEAD suites only, X25519/P-256/P-384. .NET has no API for groups, and its CipherSuitesPolicy
/// turns session resumption off (it disables SSL_CTX caching), so the policy goes to OpenSSL as a
/// process configuration file instead — written to the runtime directory and announced with
/// OPENSSL_CONF through libc's setenv before OpenSSL first initializes. An OPENSSL_CONF already set
/// would replace the policy, so serving commands refuse to start on it (see <see cref="Apply"/>).
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

    public const string FileName = "openssl-policy.cnf";

    /// <summary>
    /// Must run before anything touches cryptography (first thing in Main). Writes the policy to
    /// <paramref name="runtimeDirectory"/> (systemd's <c>$RUNTIME_DIRECTORY</c>) when it can; otherwise
    /// to a fresh private directory (mkdtemp, 0700 — never a fixed name in /tmp that another local user
    /// could create first), makes OpenSSL read it at once, and removes it again. A serving command
    /// refuses to start when <see cref="OpenSslPolicyResult.Problem"/> is set: an edge that silently
    /// served OpenSSL's defaults would be worse than one that does not start.
    /// </summary>
    public static OpenSslPolicyResult Apply(string? runtimeDirectory)
    {
        if (Environment.GetEnvironmentVariable("OPENSSL_CONF") is { Length: > 0 } operatorConf)
        {
            return new(null, $"OPENSSL_CONF: is set to '{operatorConf}', so OpenSSL would read that file instead of the appliance's TLS policy "
                + "(Mozilla intermediate: TLS 1.2/1.3, ECDHE with AEAD ciphers, X25519/P-256/P-384) and serve what it allows. "
                + "Fix: unset OPENSSL_CONF for the appliance (look in the shell profile, /etc/environment or an Environment= line of the unit); the appliance writes and loads its own policy.");
        }

        string? runtimeProblem = null;
        if (!string.IsNullOrEmpty(runtimeDirectory))
        {
            try
            {
                Directory.CreateDirectory(runtimeDirectory);
                string path = Path.Combine(runtimeDirectory, FileName);
                if (!File.Exists(path) || File.ReadAllText(path) != Configuration)
                {
                    AtomicFile.WriteAllText(path, Configuration, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                }
                return Announce(path) ?? new(path, null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                runtimeProblem = $"{runtimeDirectory}: {ex.Message.TrimEnd('.')}";
            }
        }

        DirectoryInfo? temporary = null;
        try
        {
            temporary = Directory.CreateTempSubdirectory("openalgo-appliance-tls-");
            string path = Path.Combine(temporary.FullName, FileName);
            AtomicFile.WriteAllText(path, Configuration);
            if (Announce(path) is { } failed) return failed;
            // OpenSSL reads the file once, when it initializes (OPENSSL_INIT_LOAD_CONFIG), and keeps
            // the ssl_conf settings in memory: initialize it now, then the file is no longer needed.
            System.Security.Cryptography.SHA256.HashData(ReadOnlySpan<byte>.Empty);
            return new(path, null) { Removed = true, Fallback = runtimeProblem };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string where = runtimeProblem is null ? "" : $"in RUNTIME_DIRECTORY ({runtimeProblem}) nor ";
            return new(null, $"RUNTIME_DIRECTORY: cannot write the TLS policy file {where}in a private temporary directory ({Path.GetTempPath()}: {ex.Message}), "
                + "so OpenSSL's defaults would be served. Fix: give the appliance a writable RUNTIME_DIRECTORY (the unit's RuntimeDirectory=) or TMPDIR.");
        }
        finally
        {
            try { temporary?.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static OpenSslPolicyResult? Announce(string path)
    {
        // Environment.SetEnvironmentVariable changes only .NET's copy; OpenSSL reads the C environment.
        if (SetEnv("OPENSSL_CONF", path, 1) == 0) return null;
        return new(null, $"OPENSSL_CONF: setenv failed (errno {Marshal.GetLastPInvokeError()}), so the TLS policy in {path} cannot reach OpenSSL. Fix: report this; it should not happen.");
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);
}

/// <summary>What <see cref="OpenSslPolicy.Apply"/> did: the policy file OpenSSL reads, or why the policy is not in force.</summary>
internal sealed record OpenSslPolicyResult(string? File, string? Problem)
{
    /// <summary>Loaded from a private temporary file that was removed once OpenSSL had read it.</summary>
    public bool Removed { get; init; }

    /// <summary>Why the runtime directory could not hold the file (the policy is in force all the same).</summary>
    public string? Fallback { get; init; }
}
