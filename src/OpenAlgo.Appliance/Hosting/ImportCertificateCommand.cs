using System.Security.Cryptography;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>import-certificate --cert FULLCHAIN --key KEY</c>: takes over a certificate another client
/// obtained (certbot's <c>/etc/letsencrypt/live/DOMAIN/</c>) so the appliance serves it from its
/// first start and renews it itself at 2/3 of its lifetime — no issuance at the switch-over. The
/// pair is checked (matching key, unexpired, covering every <c>Tls:Domains</c> name) before
/// anything is written; the key is stored encrypted like an issued one.
/// </summary>
internal sealed class ImportCertificateCommand(TextWriter output, TextWriter error)
{
    public const string PackageStateDirectory = PackageLayout.StateDirectory;
    public const string ServiceUser = "openalgo-appliance";

    /// <param name="siteName">The site the certificate is for (<c>--site</c>); needed only when several are configured.</param>
    public int Run(string certificateFile, string keyFile, string? configFile, string? stateDirectory, string? siteName = null)
    {
        ApplianceOptions options;
        IConfiguration configuration;
        try
        {
            configuration = ApplianceApp.BuildConfiguration(demo: false, configFile);
            options = ApplianceConfiguration.Bind(configuration);
        }
        catch (ConfigurationErrorsException ex)
        {
            error.WriteLine(ex.Message);
            return ApplianceApp.ConfigurationError;
        }
        var sites = options.EffectiveSites;
        SiteOptions? site = siteName is null
            ? (sites.Count == 1 ? sites[0] : null)
            : sites.FirstOrDefault(s => s.Name == siteName);
        if (site is null)
        {
            string names = string.Join(", ", sites.Select(s => s.Name));
            error.WriteLine(siteName is null
                ? $"import-certificate: {sites.Count} sites are configured ({names}). Fix: name the site the certificate is for with --site NAME."
                : $"import-certificate: --site {siteName}: no such site in the configuration (sites: {names}). Fix: pass one of those names, or add Appliance:Sites:{siteName} with its Tls:Domains first.");
            return ApplianceApp.ConfigurationError;
        }
        if (site.Tls.Mode != TlsMode.Acme)
        {
            error.WriteLine($"Appliance:{site.KeyPrefix}Tls:Mode: is {site.Tls.Mode}; an imported certificate is served and renewed only in Acme mode. Fix: set Tls:Mode to Acme (or use Files mode with Tls:CertificateFile and Tls:KeyFile instead of importing).");
            return ApplianceApp.ConfigurationError;
        }

        string chainPem, keyPem;
        ServerCertificate certificate;
        try
        {
            chainPem = File.ReadAllText(certificateFile);
            keyPem = File.ReadAllText(keyFile);
            certificate = ServerCertificate.FromPem(chainPem, keyPem);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or InvalidDataException or ArgumentException)
        {
            error.WriteLine($"import-certificate: cannot use {certificateFile} with {keyFile}: {ex.Message}. Fix: pass the full-chain PEM (certbot's fullchain.pem) and its private key (privkey.pem); run with sudo if only root can read them.");
            return ApplianceApp.ConfigurationError;
        }

        var leaf = certificate.Leaf;
        if (leaf.NotAfter.ToUniversalTime() <= DateTime.UtcNow)
        {
            error.WriteLine($"import-certificate: the certificate expired on {leaf.NotAfter.ToUniversalTime():u}. Fix: nothing to import; the appliance obtains a new one itself.");
            return ApplianceApp.ConfigurationError;
        }
        var missing = site.Tls.Domains.Where(d => !leaf.MatchesHostname(d, allowWildcards: true, allowCommonName: false)).ToList();
        if (site.Tls.Domains.Count == 0 || missing.Count > 0)
        {
            error.WriteLine(site.Tls.Domains.Count == 0
                ? $"Appliance:{site.KeyPrefix}Tls:Domains: is empty, so no imported certificate would be used. Fix: set Tls:Domains to the names on the certificate first."
                : $"Appliance:{site.KeyPrefix}Tls:Domains: the certificate does not cover {string.Join(", ", missing)}. Fix: set Tls:Domains to names the certificate covers, or skip the import and let the appliance issue one.");
            return ApplianceApp.ConfigurationError;
        }

        // By hand on a package install: where the unit keeps the state, not ./state of the operator's directory.
        string state = stateDirectory is not null
            ? Path.GetFullPath(stateDirectory)
            : PackageLayout.Resolve(configuration, "StateDirectory", "STATE_DIRECTORY", PackageStateDirectory, options.StateDirectory);
        var store = new AcmeStore(new SiteStorage(state, site.Name));
        // Normalized: certbot's fullchain.pem is already leaf-first; this drops anything that is not a certificate.
        store.SaveCertificate(ToPem(certificate), keyPem, imported: true);
        output.WriteLine($"Imported {certificate} with {certificate.Intermediates.Count} intermediate(s) into {store.Directory}{(site.IsImplicit ? "" : $" for site {site.Name}")}.");
        output.WriteLine($"Renewal by the appliance from {RenewalStart(leaf):u} (2/3 of its lifetime); restart the service if it is running.");

        if (Environment.UserName == "root" && state == PackageStateDirectory && UserExists(ServiceUser))
        {
            // Written by root for a service that runs as its own user: hand the state over — all but
            // a migration's record (migrate's backups hold OpenAlgo's secrets; root's, as its rollback.sh).
            SystemCommand.Run(error, "chown", $"{ServiceUser}:{ServiceUser}", state);
            foreach (var entry in Directory.EnumerateFileSystemEntries(state).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(entry);
                if (name == Path.GetFileName(Migration.Planning.MigrationPlan.MigrationDirectory) || name == Path.GetFileName(Migration.Planning.MigrationPlan.RollbackScript)) continue;
                SystemCommand.Run(error, "chown", "-R", $"{ServiceUser}:{ServiceUser}", entry);
            }
        }
        return 0;
    }

    private static DateTime RenewalStart(System.Security.Cryptography.X509Certificates.X509Certificate2 leaf)
    {
        var start = leaf.NotBefore.ToUniversalTime();
        return start + (leaf.NotAfter.ToUniversalTime() - start) * 2 / 3;
    }

    private static string ToPem(ServerCertificate certificate)
    {
        var builder = new System.Text.StringBuilder();
        builder.Append(certificate.Leaf.ExportCertificatePem()).Append('\n');
        foreach (var intermediate in certificate.Intermediates) builder.Append(intermediate.ExportCertificatePem()).Append('\n');
        return builder.ToString();
    }

    private static bool UserExists(string name) => File.ReadLines("/etc/passwd").Any(l => l.StartsWith(name + ":", StringComparison.Ordinal));
}
