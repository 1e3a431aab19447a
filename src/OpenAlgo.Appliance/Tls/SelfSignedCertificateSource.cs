using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// <c>Tls:Mode=SelfSigned</c>: an ECDSA P-256 certificate for <c>Tls:Domains</c> plus localhost,
/// 127.0.0.1 and ::1, kept in the site's <c>tls</c> folder (<see cref="SiteStorage"/>) and reused across restarts. It is re-made
/// when the configured names change and renewed 30 days before it expires, checked twice a day.
/// </summary>
internal sealed partial class SelfSignedCertificateSource(
    SiteOptions options,
    SiteStorage storage,
    CertificateHolder holder,
    TimeProvider time,
    ILogger<SelfSignedCertificateSource> logger) : BackgroundService
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private string Directory => storage.TlsDirectory;
    private string CertificatePath => CertificatePathIn(storage);

    /// <summary>A site's stored self-signed certificate (read by <c>certificates</c>).</summary>
    public static string CertificatePathIn(SiteStorage storage) => Path.Combine(storage.TlsDirectory, "self-signed.crt.pem");
    private string KeyPath => Path.Combine(Directory, "self-signed.key.pem");

    /// <summary>Loads or creates the certificate before the listeners start.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Ensure();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(12), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) Ensure();
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal void Ensure()
    {
        var names = Names();
        if (TryLoad(names) is { } existing)
        {
            if (!holder.HasCertificate || holder.Current.Leaf.Thumbprint != existing.Leaf.Thumbprint) holder.Set(existing);
            return;
        }
        var created = Create(names);
        holder.Set(created);
        Log.Created(logger, string.Join(", ", names), created.Leaf.NotAfter);
    }

    private List<string> Names()
    {
        var names = new List<string>(options.Tls.Domains);
        foreach (var extra in new[] { "localhost", "127.0.0.1", "::1" })
        {
            if (!names.Contains(extra, StringComparer.OrdinalIgnoreCase)) names.Add(extra);
        }
        return names;
    }

    private ServerCertificate? TryLoad(List<string> names)
    {
        if (!File.Exists(CertificatePath) || !File.Exists(KeyPath)) return null;
        try
        {
            var certificate = ServerCertificate.FromPem(File.ReadAllText(CertificatePath), File.ReadAllText(KeyPath));
            var now = time.GetUtcNow();
            if (certificate.Leaf.NotAfter.ToUniversalTime() - now.UtcDateTime < RenewBefore) return null;
            foreach (var name in names)
            {
                if (!certificate.Leaf.MatchesHostname(name, allowWildcards: false, allowCommonName: false)) return null;
            }
            return certificate;
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidDataException or IOException or ArgumentException)
        {
            Log.Unreadable(logger, CertificatePath, ex.Message);
            return null;
        }
    }

    private ServerCertificate Create(List<string> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}, O=OpenAlgo Appliance (self-signed)", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var ip)) san.AddIpAddress(ip);
            else san.AddDnsName(name);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(Lifetime));

        AtomicFile.EnsurePrivateDirectory(Directory);
        string keyPem = key.ExportPkcs8PrivateKeyPem();
        string certPem = certificate.ExportCertificatePem();
        // Key first: a crash between the two writes leaves a key without its certificate, which is re-made, never a mismatch served.
        AtomicFile.WriteAllText(KeyPath, keyPem);
        AtomicFile.WriteAllText(CertificatePath, certPem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return ServerCertificate.FromPem(certPem, keyPem);
    }

    private static partial class Log
    {
        [LoggerMessage(1300, LogLevel.Information, "Self-signed certificate created for {Names}, valid until {NotAfter:u}")]
        public static partial void Created(ILogger logger, string names, DateTime notAfter);

        [LoggerMessage(1301, LogLevel.Warning, "Stored self-signed certificate {Path} is unreadable ({Reason}); making a new one")]
        public static partial void Unreadable(ILogger logger, string path, string reason);
    }
}
