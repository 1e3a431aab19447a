using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// Where a site keeps its state under <c>StateDirectory</c>. The site named <c>default</c> — the
/// implicit one of a configuration without Sites, or an explicit site of that name — uses the paths
/// the appliance always used, so an upgrade (or a move to Sites that keeps the old site as
/// <c>default</c>) never orders a new certificate. Every other site lives under
/// <c>sites/&lt;name&gt;/</c> — its certificate and the key ring that encrypts its private key, so a
/// site's folder holds everything of it. The one ACME account every site uses stays at the top level,
/// encrypted with the top-level key ring.
/// </summary>
internal sealed record SiteStorage(string StateDirectory, string SiteName)
{
    public static SiteStorage For(string stateDirectory, SiteOptions site) => new(stateDirectory, site.Name);

    public bool IsDefault => SiteName == SiteOptions.DefaultName;

    /// <summary>The site's own folder: <c>StateDirectory</c> itself for <c>default</c>, else <c>StateDirectory/sites/&lt;name&gt;</c>.</summary>
    public string Directory => IsDefault ? StateDirectory : Path.Combine(StateDirectory, "sites", SiteName);

    /// <summary>The site's ACME certificate, its key and lock.</summary>
    public string AcmeDirectory => Path.Combine(Directory, "acme");

    /// <summary>The site's self-signed certificate.</summary>
    public string TlsDirectory => Path.Combine(Directory, "tls");

    /// <summary>The one ACME account every site uses.</summary>
    public string AccountDirectory => Path.Combine(StateDirectory, "acme");

    /// <summary>DataProtection's key ring that encrypts the site's certificate key.</summary>
    public string KeyRing => Path.Combine(Directory, "dataprotection");

    /// <summary>The key ring that encrypts the shared account's key.</summary>
    public string AccountKeyRing => Path.Combine(StateDirectory, "dataprotection");
}
