using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// What <c>install</c> was told about one site: its name (null for the one implicit site of a
/// configuration without <c>Sites</c>), its host names and, when given, where its OpenAlgo web app listens.
/// </summary>
internal sealed record InstallSite(string? Name, IReadOnlyList<string> Domains, string? Upstream);

/// <summary>
/// <c>install</c>'s sites from its options in the order they were typed: without <c>--site</c>, every
/// <c>--domain</c> names the one implicit site (today's configuration, no <c>Sites</c> section);
/// with it, each <c>--site NAME</c> starts a site and the <c>--domain</c> and <c>--upstream</c> after
/// it, up to the next <c>--site</c>, are that site's:
/// <c>install --site one --domain one.example.com --site two --domain two.example.com</c>.
/// </summary>
internal static class InstallSites
{
    public const string SiteOption = "--site";
    public const string DomainOption = "--domain";
    public const string UpstreamOption = "--upstream";

    /// <summary>The sites, or null after saying on <paramref name="error"/> what is wrong and how to write it.</summary>
    public static IReadOnlyList<InstallSite>? From(IReadOnlyList<(string Option, string Value)> typed, TextWriter error)
    {
        if (!typed.Any(t => t.Option == SiteOption))
        {
            var upstreams = typed.Where(t => t.Option == UpstreamOption).Select(t => t.Value).ToList();
            if (upstreams.Count > 1)
            {
                return Refuse(error, $"--upstream is given {upstreams.Count} times for one site. Fix: give it once, or one per site after each --site NAME " +
                    "(install --site one --domain one.example.com --upstream U1 --site two --domain two.example.com --upstream U2).");
            }
            return [new InstallSite(null, typed.Where(t => t.Option == DomainOption).Select(t => t.Value).ToList(), upstreams.FirstOrDefault())];
        }

        var sites = new List<(string Name, List<string> Domains, List<string> Upstreams)>();
        foreach (var (option, value) in typed)
        {
            if (option == SiteOption)
            {
                if (!ApplianceOptionsValidator.IsUsableSiteName(value))
                {
                    return Refuse(error, $"--site '{value}' is not a usable site name. Fix: use letters, digits, '-' and '_' (up to 40, starting with a letter or digit), for example broker1 or family-zerodha.");
                }
                // Configuration keys are case-insensitive: Sites:One and Sites:one are one site.
                if (sites.Any(s => s.Name.Equals(value, StringComparison.OrdinalIgnoreCase)))
                {
                    return Refuse(error, $"--site {value} is given twice. Fix: name each site once, its --domain options after it.");
                }
                sites.Add((value, [], []));
                continue;
            }
            if (sites.Count == 0)
            {
                return Refuse(error, $"{option} {value} comes before any --site, so it belongs to no site. Fix: put each site's --domain (and --upstream) after its --site NAME.");
            }
            (option == DomainOption ? sites[^1].Domains : sites[^1].Upstreams).Add(value);
        }
        foreach (var (name, domains, upstreams) in sites)
        {
            if (domains.Count == 0)
            {
                return Refuse(error, $"--site {name} has no --domain: a site is reached by its host names. Fix: add --domain NAME after --site {name}.");
            }
            if (upstreams.Count > 1)
            {
                return Refuse(error, $"--site {name} has {upstreams.Count} --upstream options. Fix: give each site one (where its OpenAlgo's gunicorn listens).");
            }
        }
        return sites.Select(s => new InstallSite(s.Name, s.Domains, s.Upstreams.FirstOrDefault())).ToList();
    }

    private static IReadOnlyList<InstallSite>? Refuse(TextWriter error, string message)
    {
        error.WriteLine("install: " + message);
        return null;
    }
}
