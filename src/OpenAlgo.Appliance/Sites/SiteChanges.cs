using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Sites;

/// <summary>What a reload changed for one site, read from the one table of keys (<see cref="ConfigurationKeys"/>).</summary>
internal static class SiteChanges
{
    /// <summary>
    /// The keys (concrete, with indices) whose effective value differs between the running and the
    /// reloaded version of a site; for a site using ACME, the shared account's keys count too.
    /// </summary>
    public static List<string> Between(ApplianceOptions before, SiteOptions running, ApplianceOptions after, SiteOptions fresh)
    {
        var changed = new List<string>();
        foreach (var key in ConfigurationKeys.All)
        {
            bool acmeAccount = key.Scope == KeyScope.Global && key.Pattern.StartsWith("Tls:Acme:", StringComparison.Ordinal);
            if (key.Scope != KeyScope.Site && !(acmeAccount && (running.Tls.Mode == TlsMode.Acme || fresh.Tls.Mode == TlsMode.Acme))) continue;
            if (key.ArraySection is null)
            {
                if (key.Show(before, running, 0) != key.Show(after, fresh, 0)) changed.Add(key.Pattern);
                continue;
            }
            for (int i = 0; ; i++)
            {
                string? old = key.Show(before, running, i);
                string? now = key.Show(after, fresh, i);
                if (old is null && now is null) break;
                if (old != now) changed.Add(key.Pattern.Replace("*", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
            }
        }
        return changed;
    }

    /// <summary>
    /// Limits and origins apply to a running site in place (new connections and messages see them);
    /// everything else — its source, auth, proxy, certificate mode or domains, internal listener —
    /// rebuilds the site.
    /// </summary>
    public static bool AppliesInPlace(IEnumerable<string> changed) =>
        changed.All(key => key.StartsWith("Limits:", StringComparison.Ordinal) || key.StartsWith("Security:", StringComparison.Ordinal));
}
