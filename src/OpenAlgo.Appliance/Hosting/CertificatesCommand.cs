using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>certificates</c>: like <c>certbot certificates</c>, offline — per site the stored certificate's
/// names, issuer, serial, expiry, where it came from (issued, imported, self-signed, files), when it
/// will be renewed and why (the moment chosen in the CA's ARI window, 2/3 of the lifetime, emergency;
/// <c>acme/renewal-window.json</c>), and the last renewal error the service noted (<c>acme/status.json</c>). Reads the state directory and the configured files;
/// starts nothing, decrypts nothing, writes nothing. Exit 1 when a site has no usable certificate.
/// </summary>
internal sealed class CertificatesCommand(TextWriter output, TextWriter error, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public int Run(string? configFile, string? stateDirectory)
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
        string state = stateDirectory is not null ? Path.GetFullPath(stateDirectory) : PackageLayout.Resolve(configuration, "StateDirectory", "STATE_DIRECTORY", PackageLayout.StateDirectory, options.StateDirectory);
        var now = _time.GetUtcNow();
        var text = new StringBuilder();
        bool allUsable = true;
        text.Append("Certificates in ").Append(Path.GetFullPath(state)).Append(":\n");
        foreach (var site in options.EffectiveSites)
        {
            text.Append('\n').Append("  Site: ").Append(site.Name).Append('\n');
            text.Append("    Mode: ").Append(site.Tls.Mode).Append('\n');
            if (site.Tls.Domains.Count > 0) text.Append("    Configured domains: ").Append(string.Join(", ", site.Tls.Domains)).Append('\n');
            allUsable &= Describe(site, state, now, text);
        }
        output.Write(text.ToString());
        return allUsable ? 0 : 1;
    }

    private static bool Describe(SiteOptions site, string state, DateTimeOffset now, StringBuilder text)
    {
        string path;
        AcmeStatus? acme = null;
        RenewalWindow? window = null;
        string origin;
        switch (site.Tls.Mode)
        {
            case TlsMode.Acme:
                string directory = AcmeStore.DirectoryIn(new SiteStorage(state, site.Name));
                path = Path.Combine(directory, AcmeStore.ChainFileName);
                acme = AcmeStatusFile.Read(directory);
                window = ReadWindow(Path.Combine(directory, AcmeStore.RenewalWindowFileName));
                origin = File.Exists(Path.Combine(directory, AcmeStore.ImportedMarkerFileName))
                    ? "imported (import-certificate), renewed over ACME by the appliance"
                    : "issued over ACME by the appliance";
                break;
            case TlsMode.SelfSigned:
                path = SelfSignedCertificateSource.CertificatePathIn(new SiteStorage(state, site.Name));
                origin = "self-signed by the appliance";
                break;
            default:
                path = site.Tls.CertificateFile;
                origin = "PEM files (Tls:CertificateFile), reloaded when they change";
                break;
        }
        text.Append("    Certificate Path: ").Append(path).Append('\n');

        X509Certificate2? leaf = null;
        string? unreadable = null;
        try
        {
            if (File.Exists(path))
            {
                var chain = new X509Certificate2Collection();
                chain.ImportFromPemFile(path);
                if (chain.Count > 0) leaf = chain[0];
                else unreadable = "no certificate in the file";
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            unreadable = ex.Message;
        }

        if (leaf is null)
        {
            text.Append("    Status: ").Append(unreadable is not null ? $"UNREADABLE ({unreadable})"
                : site.Tls.Mode switch
                {
                    TlsMode.Acme => "no certificate issued yet: the service serves a temporary self-signed one until ACME succeeds",
                    TlsMode.SelfSigned => "none yet: the service makes one when it starts",
                    _ => "MISSING: Tls:CertificateFile does not exist",
                }).Append('\n');
            AppendLastError(acme, text);
            // A self-signed certificate the service will make is not a problem; the others are.
            return site.Tls.Mode == TlsMode.SelfSigned && unreadable is null;
        }

        var renewal = Renewal(site.Tls.Mode, leaf, window);
        var summary = CertificateSummary.From(leaf, site.Tls.Mode, origin, renewal, acme?.LastError, acme?.LastErrorAt);
        var inv = CultureInfo.InvariantCulture;
        double days = summary.DaysLeft(now);
        text.Append("    Domains: ").Append(string.Join(" ", summary.Names)).Append('\n');
        text.Append("    Issuer: ").Append(summary.Issuer).Append('\n');
        text.Append("    Serial Number: ").Append(summary.Serial.ToLowerInvariant()).Append('\n');
        text.Append(inv, $"    Expiry Date: {summary.NotAfter:yyyy-MM-dd HH:mm:ss}+00:00 ({(days > 0 ? $"VALID: {Math.Floor(days):0} days" : "EXPIRED")})\n");
        text.Append("    Source: ").Append(summary.Origin).Append('\n');
        var missing = site.Tls.Domains.Where(d => !leaf.MatchesHostname(d, allowWildcards: true, allowCommonName: false)).ToList();
        if (missing.Count > 0) text.Append("    Does not cover: ").Append(string.Join(", ", missing)).Append(site.Tls.Mode == TlsMode.Acme ? " (the service orders a new certificate)" : "").Append('\n');
        if (summary.RenewAt is { } at)
        {
            string reason = RenewalPolicy.Describe(summary.RenewReason!.Value);
            text.Append(inv, $"    Next Renewal: {at:yyyy-MM-dd HH:mm} UTC, {reason}{(at <= now ? " — due now" : "")}\n");
        }
        else
        {
            text.Append("    Next Renewal: ").Append(RenewalPolicy.Describe(RenewalReason.FileChange)).Append('\n');
        }
        AppendLastError(acme, text);
        return days > 0;
    }

    /// <summary>The service's own plan: ARI window when it heard one for this serial (capped at the emergency point), else the ratio.</summary>
    private static (DateTimeOffset, RenewalReason)? Renewal(TlsMode mode, X509Certificate2 leaf, RenewalWindow? window)
    {
        var notBefore = new DateTimeOffset(leaf.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime());
        return mode switch
        {
            TlsMode.Acme when window is not null && string.Equals(window.Serial, leaf.SerialNumber, StringComparison.OrdinalIgnoreCase)
                => RenewalPolicy.Plan(notBefore, notAfter, window.Chosen),
            TlsMode.Acme => RenewalPolicy.Plan(notBefore, notAfter),
            TlsMode.SelfSigned => (notAfter - SelfSignedCertificateSource.RenewBefore, RenewalReason.BeforeExpiry),
            _ => null,
        };
    }

    /// <summary>The moment the service chose in the CA's ARI window (<c>renewal-window.json</c>); null when none or unreadable.</summary>
    private static RenewalWindow? ReadWindow(string path)
    {
        try
        {
            return File.Exists(path) ? System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(path), AcmeJsonContext.Default.RenewalWindow) : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void AppendLastError(AcmeStatus? acme, StringBuilder text)
    {
        if (acme is null) return;
        text.Append("    Last Error: ").Append(acme.LastError is { } e ? $"{acme.LastErrorAt:yyyy-MM-dd HH:mm} UTC: {e} ({acme.Failures} failed attempts since the service started)" : "none").Append('\n');
    }
}
