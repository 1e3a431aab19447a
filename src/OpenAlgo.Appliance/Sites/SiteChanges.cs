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
            bool acmeAccount = key.Scope == KeyScope.Global && AppliedByRebuildingAcmeSites(key.Pattern);
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
    /// The ACME account's keys a reload applies, by rebuilding every site that uses ACME (its
    /// certificate service reads them when it starts). The renewal loop's period is the process's
    /// (<see cref="Tls.Acme.AcmeSchedule"/>, built once): rebuilding a site would not change it.
    /// </summary>
    private static bool AppliedByRebuildingAcmeSites(string pattern) =>
        pattern.StartsWith("Tls:Acme:", StringComparison.Ordinal) && pattern != "Tls:Acme:RenewCheckInterval";

    /// <summary>
    /// The global keys whose new value a reload cannot apply — the public and admin listeners and
    /// their <c>Http:*</c> limits (Kestrel reads them when a listener binds), the renewal period, the
    /// state and log directories — changed between <paramref name="before"/> and <paramref name="after"/>:
    /// they take effect at the next restart. <c>LogLevel</c> and <c>Logging:MessageTrace:*</c> apply at
    /// once, the ACME account's keys through the sites that use it.
    /// </summary>
    public static List<string> NeedRestart(ApplianceOptions before, ApplianceOptions after)
    {
        var changed = new List<string>();
        foreach (var key in ConfigurationKeys.Of(KeyScope.Global))
        {
            if (key.Pattern == "LogLevel" || key.Pattern.StartsWith("Logging:MessageTrace:", StringComparison.Ordinal) || AppliedByRebuildingAcmeSites(key.Pattern)) continue;
            for (int i = 0; ; i++)
            {
                string? old = key.Show(before, before.EffectiveSites[0], i);
                string? now = key.Show(after, after.EffectiveSites[0], i);
                if (old != now)
                {
                    changed.Add(key.Pattern);
                    break;
                }
                if (key.ArraySection is null || (old is null && now is null)) break;
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
