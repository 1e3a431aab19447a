using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.Sites;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// What ACME state survives a restart (directories 0700): the one account every site shares, in
/// <c>StateDirectory/acme</c> (its key encrypted, its URL in clear), and a site's certificate in the
/// site's own ACME folder (<see cref="SiteStorage.AcmeDirectory"/>: the key encrypted, the PEM chain
/// and the ARI renewal window (<c>renewal-window.json</c>) in clear). Keys are encrypted with ASP.NET
/// DataProtection (its key ring in <c>StateDirectory/dataprotection</c>). Every write is atomic; a
/// torn or corrupt file is reported and treated as absent, never served.
/// </summary>
internal sealed class AcmeStore
{
    private readonly string _directory;
    private readonly string _accountDirectory;
    private readonly KeyRing _certificateKeys;
    private readonly KeyRing _accountKeys;

    /// <summary>Where a site's store lives (read without opening it by <c>certificates</c>).</summary>
    public static string DirectoryIn(SiteStorage storage) => storage.AcmeDirectory;

    /// <summary>Where the <c>default</c> site's store lives (a configuration without Sites).</summary>
    public static string DirectoryIn(string stateDirectory) => DirectoryIn(new SiteStorage(stateDirectory, SiteOptions.DefaultName));

    /// <summary>The <c>default</c> site's store (a configuration without Sites).</summary>
    public AcmeStore(string stateDirectory) : this(new SiteStorage(stateDirectory, SiteOptions.DefaultName))
    {
    }

    public const string ChainFileName = "certificate.pem";
    public const string ImportedMarkerFileName = "certificate.imported";

    public AcmeStore(SiteStorage storage)
    {
        _directory = storage.AcmeDirectory;
        _accountDirectory = storage.AccountDirectory;
        AtomicFile.EnsurePrivateDirectory(storage.StateDirectory);
        if (!storage.IsDefault)
        {
            AtomicFile.EnsurePrivateDirectory(Path.GetDirectoryName(storage.Directory)!);
            AtomicFile.EnsurePrivateDirectory(storage.Directory);
        }
        AtomicFile.EnsurePrivateDirectory(_directory);
        AtomicFile.EnsurePrivateDirectory(storage.KeyRing);
        _certificateKeys = new KeyRing(storage.KeyRing);
        // The default site's certificate and the account share the top-level ring: one provider for one directory.
        _accountKeys = storage.AccountKeyRing == storage.KeyRing ? _certificateKeys : new KeyRing(storage.AccountKeyRing);
    }

    public string Directory => _directory;
    private string AccountKeyPath => Path.Combine(_accountDirectory, "account.key.protected");
    private string AccountPath => Path.Combine(_accountDirectory, "account.url");
    private string ChainPath => Path.Combine(_directory, ChainFileName);
    private string CertificateKeyPath => Path.Combine(_directory, "certificate.key.protected");
    private string ImportedMarkerPath => Path.Combine(_directory, ImportedMarkerFileName);
    private string RenewalWindowPath => Path.Combine(_directory, RenewalWindowFileName);

    public const string RenewalWindowFileName = "renewal-window.json";

    /// <summary>
    /// The stored certificate came from <c>import-certificate</c> (another ACME account, e.g.
    /// certbot's), so its renewal must not claim to replace it (RFC 9773 <c>replaces</c>).
    /// </summary>
    public bool IsImported => File.Exists(ImportedMarkerPath);

    /// <summary>The account for this directory URL, or null (none yet, another CA, or unreadable).</summary>
    public (AcmeAccountKey Key, string Url)? LoadAccount(string directoryUrl)
    {
        if (!File.Exists(AccountKeyPath) || !File.Exists(AccountPath)) return null;
        string[] lines = File.ReadAllLines(AccountPath);
        if (lines.Length < 2 || lines[0] != directoryUrl) return null;
        byte[] pkcs8 = _accountKeys.Unprotect(File.ReadAllText(AccountKeyPath));
        return (AcmeAccountKey.FromPkcs8(pkcs8), lines[1]);
    }

    public void SaveAccount(string directoryUrl, AcmeAccountKey key, string url)
    {
        AtomicFile.EnsurePrivateDirectory(_accountDirectory);
        AtomicFile.WriteAllText(AccountKeyPath, _accountKeys.Protect(key.ExportPkcs8()));
        AtomicFile.WriteAllText(AccountPath, directoryUrl + "\n" + url + "\n");
    }

    /// <summary>The stored certificate; throws on a corrupt file so the caller can say so and re-issue.</summary>
    public ServerCertificate? LoadCertificate()
    {
        string chainPath = ChainPath, keyPath = CertificateKeyPath;
        try
        {
            RecoverPendingCertificate();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only state directory with a committed replacement: read it where it is.
            if (File.Exists(PendingChainPath))
            {
                chainPath = PendingChainPath;
                if (File.Exists(PendingKeyPath)) keyPath = PendingKeyPath;
            }
        }
        if (!File.Exists(chainPath) || !File.Exists(keyPath)) return null;
        string keyPem = Encoding.UTF8.GetString(_certificateKeys.Unprotect(File.ReadAllText(keyPath)));
        return ServerCertificate.FromPem(File.ReadAllText(chainPath), keyPem);
    }

    /// <summary>
    /// Replaces the stored pair so that a crash (kill -9, power cut) or a full or read-only disk at
    /// any point leaves the old pair or the new one, never a new key with the old chain: the new key
    /// goes to <c>certificate.key.protected.next</c>, then the new chain to <c>certificate.pem.next</c>
    /// — the commit point: a chain there means the key beside it is whole — then both are renamed
    /// into place. <see cref="LoadCertificate"/> finishes a committed replacement and drops an
    /// uncommitted one. A failed write throws with the old pair intact and nothing left behind.
    /// </summary>
    public void SaveCertificate(string chainPem, string keyPem, bool imported = false)
    {
        RecoverPendingCertificate();
        try
        {
            AtomicFile.WriteAllText(PendingKeyPath, _certificateKeys.Protect(Encoding.UTF8.GetBytes(keyPem)));
            AtomicFile.WriteAllText(PendingChainPath, chainPem, ChainMode);
        }
        catch
        {
            DeleteQuietly(PendingKeyPath);
            throw;
        }
        RecoverPendingCertificate();
        if (imported) AtomicFile.WriteAllText(ImportedMarkerPath, "imported with openalgo-appliance import-certificate\n");
        else File.Delete(ImportedMarkerPath);
    }

    private const UnixFileMode ChainMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private string PendingKeyPath => CertificateKeyPath + ".next";
    private string PendingChainPath => ChainPath + ".next";

    /// <summary>Rolls a committed replacement forward (a pending chain: the key was written before it), or an uncommitted one back.</summary>
    private void RecoverPendingCertificate()
    {
        if (File.Exists(PendingChainPath))
        {
            if (File.Exists(PendingKeyPath)) File.Move(PendingKeyPath, CertificateKeyPath, overwrite: true);
            File.Move(PendingChainPath, ChainPath, overwrite: true);
            AtomicFile.SyncDirectory(_directory);
        }
        else
        {
            DeleteQuietly(PendingKeyPath);
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The ARI window and chosen renewal moment last saved, or null (none, or unreadable: ask the CA again).</summary>
    public RenewalWindow? LoadRenewalWindow()
    {
        try
        {
            return File.Exists(RenewalWindowPath)
                ? System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(RenewalWindowPath), AcmeJsonContext.Default.RenewalWindow)
                : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException or NotSupportedException)
        {
            return null;
        }
    }

    public void SaveRenewalWindow(RenewalWindow window) =>
        AtomicFile.WriteAllText(RenewalWindowPath, System.Text.Json.JsonSerializer.Serialize(window, AcmeJsonContext.Default.RenewalWindow) + "\n");

    /// <summary>
    /// An exclusive lock file: a second instance on the same state never orders at the same time.
    /// Null when another holds it. On a read-only state directory the existing file is locked
    /// read-only (flock needs no write access), and with none there is nothing stored to race on:
    /// the order goes ahead — its certificate is served from memory, not lost to the directory.
    /// </summary>
    public IDisposable? TryLock()
    {
        string path = Path.Combine(_directory, ".lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException || (ex is IOException && ex.HResult == ReadOnlyFileSystem))
        {
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            }
            catch (FileNotFoundException)
            {
                return new MemoryStream(0);
            }
            catch (IOException)
            {
                return null;
            }
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>EROFS, as .NET reports it in <see cref="Exception.HResult"/> on Unix.</summary>
    private const int ReadOnlyFileSystem = 30;

    /// <summary>A DataProtection key ring in one directory, made when first needed.</summary>
    private sealed class KeyRing(string directory)
    {
        private IDataProtector? _protector;

        private IDataProtector Protector
        {
            get
            {
                if (_protector is not null) return _protector;
                AtomicFile.EnsurePrivateDirectory(directory);
                return _protector = DataProtectionProvider.Create(new DirectoryInfo(directory), builder => builder.SetApplicationName("openalgo-appliance"))
                    .CreateProtector("OpenAlgo.Appliance.Tls.Acme.PrivateKeys");
            }
        }

        public string Protect(byte[] secret)
        {
            try
            {
                string result = Convert.ToBase64String(Protector.Protect(secret)) + "\n";
                // DataProtection writes its key files with the process umask; they are key material: 0600.
                foreach (var file in System.IO.Directory.EnumerateFiles(directory))
                {
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
                return result;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }

        public byte[] Unprotect(string text)
        {
            try
            {
                return Protector.Unprotect(Convert.FromBase64String(text.Trim()));
            }
            catch (FormatException ex)
            {
                throw new CryptographicException("stored key is not valid base64 (truncated?)", ex);
            }
        }
    }
}
