using System.Security.Cryptography;
using OpenAlgo.Appliance.Migration.Planning;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// Imports certbot's certificate into the site's ACME store (as <c>import-certificate --site NAME</c>
/// does): served from the appliance's first second, renewed by it at 2/3 of its lifetime. Every file
/// of the store it overwrites is backed up first; files it creates are removed by a rollback.
/// </summary>
internal sealed class ImportCertificateStep(SitePlan site) : MigrationStep
{
    public override string Description =>
        $"import {site.Certificate!.CertificateFile} for site {site.Name} (renewed by the appliance from then on)";

    public override void Run(ApplyContext context)
    {
        var lineage = site.Certificate!;
        ServerCertificate certificate;
        string keyPem;
        try
        {
            string chainPem = context.Root.ReadAllText(lineage.CertificateFile);
            keyPem = context.Root.ReadAllText(lineage.KeyFile);
            certificate = ServerCertificate.FromPem(chainPem, keyPem);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or InvalidDataException or ArgumentException)
        {
            throw new MigrationException($"cannot import {lineage.CertificateFile} with {lineage.KeyFile}: {ex.Message}");
        }
        var missing = site.Domains.Where(d => !certificate.Leaf.MatchesHostname(d, allowWildcards: true, allowCommonName: false)).ToList();
        if (missing.Count > 0) throw new MigrationException($"{lineage.CertificateFile} does not cover {string.Join(", ", missing)}");

        // The store's layout (shared account and key ring, the site's own folder) is the store's
        // business: every file of the state directory it overwrites is backed up first, every file
        // and directory it creates is removed by a rollback.
        string state = MigrationPlan.StateDirectory;
        string realState = context.Root.Map(state);
        var (filesBefore, directoriesBefore) = Entries(realState);
        foreach (var file in filesBefore.Keys) context.Save(state + file);
        SiteStore.Save(realState, site, ToPem(certificate), keyPem);
        var (filesAfter, directoriesAfter) = Entries(realState);
        foreach (var directory in directoriesAfter.Except(directoriesBefore).OrderBy(d => d.Length).ThenBy(d => d, StringComparer.Ordinal))
        {
            context.Journal.Add(new RemoveDirectory(state + directory));
        }
        foreach (var file in filesAfter.Keys.Except(filesBefore.Keys).Order(StringComparer.Ordinal)) context.Journal.Add(new RemoveFile(state + file));
        context.Output.WriteLine($"  {string.Join(", ", site.Domains)}: into {SiteStore.Directory(site)} (valid until {certificate.Leaf.NotAfter.ToUniversalTime():yyyy-MM-dd})");

        // Root wrote them; the service reads them as its own user. Every directory the store created
        // (the second site's import creates sites/<name> under an existing sites/), and every file it
        // wrote outside those (a shared file it created or replaced).
        var created = directoriesAfter.Except(directoriesBefore).ToHashSet(StringComparer.Ordinal);
        foreach (var directory in created.Where(d => !created.Contains(Parent(d))).Order(StringComparer.Ordinal))
        {
            SiteStore.HandOver(context, state + directory);
        }
        foreach (var (file, written) in filesAfter.Where(f => !created.Contains(Parent(f.Key))).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (!filesBefore.TryGetValue(file, out var before) || before != written) SiteStore.HandOver(context, state + file, recursive: false);
        }
    }

    private static string Parent(string relative) => relative[..relative.LastIndexOf('/')];

    /// <summary>
    /// Files (with their last write: a file the store replaced has a new one) and directories under
    /// the state directory (relative, with a leading '/'), the migration's own record left out.
    /// </summary>
    private static (Dictionary<string, DateTime> Files, HashSet<string> Directories) Entries(string realState)
    {
        var files = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(realState)) return (files, directories);
        foreach (var entry in Directory.EnumerateFileSystemEntries(realState, "*", SearchOption.AllDirectories))
        {
            string relative = entry[realState.Length..];
            if (relative.StartsWith("/migration", StringComparison.Ordinal) || relative == "/rollback.sh") continue;
            if (Directory.Exists(entry)) directories.Add(relative);
            else files[relative] = File.GetLastWriteTimeUtc(entry);
        }
        return (files, directories);
    }

    private static string ToPem(ServerCertificate certificate)
    {
        var builder = new System.Text.StringBuilder();
        builder.Append(certificate.Leaf.ExportCertificatePem()).Append('\n');
        foreach (var intermediate in certificate.Intermediates) builder.Append(intermediate.ExportCertificatePem()).Append('\n');
        return builder.ToString();
    }
}

/// <summary>Copies a certificate the appliance does not renew (a wildcard certbot renews by DNS, a bought one) where the service can read it, for <c>Tls:Mode=Files</c>.</summary>
internal sealed class CopyCertificateStep(SitePlan site) : MigrationStep
{
    public override string Description =>
        $"copy {site.Certificate!.CertificateFile} and its key to {Path.GetDirectoryName(ConfigurationWriter.CertificateCopy(site, "fullchain.pem"))} for site {site.Name} (Tls:Mode=Files)";

    public override void Run(ApplyContext context)
    {
        var lineage = site.Certificate!;
        string chain = ConfigurationWriter.CertificateCopy(site, "fullchain.pem");
        string key = ConfigurationWriter.CertificateCopy(site, "privkey.pem");
        context.CreatePrivateDirectories(Path.GetDirectoryName(chain)!, journal: true);
        context.Save(chain);
        context.Save(key);
        AtomicFile.WriteAllBytes(context.Root.Map(chain), context.Root.ReadAllBytes(lineage.CertificateFile),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        AtomicFile.WriteAllBytes(context.Root.Map(key), context.Root.ReadAllBytes(lineage.KeyFile));
        SiteStore.HandOver(context, Path.GetDirectoryName(chain)!);
        if (lineage.IsCertbot) WriteDeployHook(context, lineage, chain, key);
    }

    /// <summary>
    /// certbot keeps renewing a lineage the appliance cannot (DNS-01): its deploy hook copies each
    /// renewal where the service reads it (temp file and rename, so the appliance's file watcher
    /// never sees half a key), and the appliance reloads the pair by itself.
    /// </summary>
    private void WriteDeployHook(ApplyContext context, Discovery.CertbotLineage lineage, string chain, string key)
    {
        string hook = $"/etc/letsencrypt/renewal-hooks/deploy/openalgo-appliance-{site.Name}.sh";
        context.CreatePrivateDirectories(Path.GetDirectoryName(hook)!, journal: true);
        context.Save(hook);
        string owner = SiteStore.UserExists(context.Root) ? $" -o {SiteStore.ServiceUser} -g {SiteStore.ServiceUser}" : "";
        string live = Path.GetDirectoryName(lineage.CertificateFile)!;
        AtomicFile.WriteAllText(context.Root.Map(hook), $"""
            #!/bin/sh
            # Written by openalgo-appliance migrate: certbot renews {lineage.Name} (the appliance cannot:
            # {lineage.Authenticator ?? "DNS"}); this copies each renewal to site {site.Name} (Tls:Mode=Files), which reloads it.
            set -e
            [ "$RENEWED_LINEAGE" = "{live}" ] || exit 0
            install -m 0644{owner} "$RENEWED_LINEAGE/fullchain.pem" "{chain}.new"
            install -m 0600{owner} "$RENEWED_LINEAGE/privkey.pem" "{key}.new"
            mv -f "{key}.new" "{key}"
            mv -f "{chain}.new" "{chain}"

            """, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        context.Output.WriteLine($"  certbot deploy hook {hook}");
    }
}

/// <summary>Where a site's certificate state lives, and handing it to the service user.</summary>
internal static class SiteStore
{
    public const string ServiceUser = "openalgo-appliance";

    /// <summary>Where the site's certificate is kept (what <c>import-certificate --site NAME</c> writes).</summary>
    public static string Directory(SitePlan site) => $"{MigrationPlan.StateDirectory}/sites/{site.Name}/acme";

    /// <summary>Stores an imported certificate for the site as <c>import-certificate --site NAME</c> does.</summary>
    public static void Save(string realStateDirectory, SitePlan site, string chainPem, string keyPem) =>
        new AcmeStore(new SiteStorage(realStateDirectory, site.Name)).SaveCertificate(chainPem, keyPem, imported: true);

    /// <summary>Files root wrote for a service that runs as its own user: chown them (the live system, when the package created the user).</summary>
    public static void HandOver(ApplyContext context, string systemDirectory, bool recursive = true)
    {
        if (!UserExists(context.Root)) return;
        context.Commands.Run(recursive
            ? ["chown", "-R", $"{ServiceUser}:{ServiceUser}", context.Root.Display(systemDirectory)]
            : ["chown", $"{ServiceUser}:{ServiceUser}", context.Root.Display(systemDirectory)]);
    }

    public static bool UserExists(SystemRoot root) =>
        root.FileExists("/etc/passwd") && root.ReadAllText("/etc/passwd").Split('\n').Any(l => l.StartsWith(ServiceUser + ":", StringComparison.Ordinal));
}
