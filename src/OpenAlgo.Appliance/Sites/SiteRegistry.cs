namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// The sites serving right now, and which one a host name reaches — by SNI for a TLS connection,
/// by <c>Host</c> for an HTTP request. With one site every name (and a bare IP) reaches it, as
/// before sites existed; with several only a name in a site's <c>Tls:Domains</c> does. Replaced
/// whole when a site starts or stops, so lookups never lock.
/// </summary>
internal sealed class SiteRegistry
{
    private Snapshot _snapshot = new([], new Dictionary<string, Site>(StringComparer.OrdinalIgnoreCase));

    /// <summary>The running sites in configuration order.</summary>
    public IReadOnlyList<Site> Current => Volatile.Read(ref _snapshot).Sites;

    public Site? this[string name] => Current.FirstOrDefault(s => s.Name == name);

    /// <summary>The site serving <paramref name="host"/> (a host name or IP, no port), or null: nobody here serves that name.</summary>
    public Site? ForHost(string? host)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot.Sites.Length == 1) return snapshot.Sites[0];
        if (string.IsNullOrEmpty(host)) return null;
        return snapshot.ByDomain.GetValueOrDefault(Normalize(host));
    }

    /// <summary>Host names compare without case, brackets or a trailing dot.</summary>
    public static string Normalize(string host) => host.Trim().Trim('[', ']').TrimEnd('.');

    internal void Set(IEnumerable<Site> sites)
    {
        var array = sites.ToArray();
        var byDomain = new Dictionary<string, Site>(StringComparer.OrdinalIgnoreCase);
        foreach (var site in array)
        {
            foreach (var domain in site.Options.Tls.Domains) byDomain.TryAdd(Normalize(domain), site);
        }
        Volatile.Write(ref _snapshot, new Snapshot(array, byDomain));
    }

    private sealed record Snapshot(Site[] Sites, Dictionary<string, Site> ByDomain);
}
