using System.Security.Cryptography;
using System.Text;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>check</c> (like <c>nginx -t</c>: exit 0, or 1 with a line per bad or unknown key and its fix)
/// and <c>show-config</c> (like <c>nginx -T</c>: every effective value and the layer it came from,
/// secrets redacted).
/// </summary>
internal static class ConfigurationCommands
{
    public static int Check(string? configFile, TextWriter output, TextWriter error)
    {
        IConfigurationRoot configuration;
        try
        {
            configuration = ApplianceApp.BuildConfiguration(demo: false, configFile);
        }
        catch (ConfigurationErrorsException ex)
        {
            error.WriteLine(ex.Message);
            return ApplianceApp.ConfigurationError;
        }
        var problems = UnknownKeys(configuration).ToList();
        ApplianceOptions? options = null;
        try
        {
            options = ApplianceConfiguration.Bind(configuration);
        }
        catch (ConfigurationErrorsException ex)
        {
            problems.AddRange(ex.Errors);
        }
        if (problems.Count > 0 || options is null)
        {
            error.WriteLine("Invalid configuration:");
            foreach (var problem in problems) error.WriteLine("  " + problem);
            return ApplianceApp.ConfigurationError;
        }
        // Like nginx -t: a warning goes to stderr and the configuration is still valid (exit 0).
        foreach (var site in options.EffectiveSites)
        {
            if (Proxy.FlaskAppNotConfigured.Warning(site) is { } warning) error.WriteLine("warning: " + warning);
        }
        output.WriteLine($"configuration OK ({string.Join(", ", new ConfigurationProvenance(configuration).Layers())})");
        if (options.Sites.Count > 0)
        {
            foreach (var site in options.Sites)
            {
                output.WriteLine($"  site {site.Name}: {string.Join(", ", site.Tls.Domains)} ({site.Tls.Mode}, market data {site.MarketData.Source}{(string.IsNullOrWhiteSpace(site.Listen.Internal) ? "" : ", internal " + site.Listen.Internal)})");
            }
        }
        return 0;
    }

    public static int Show(string? configFile, TextWriter output, TextWriter error)
    {
        IConfigurationRoot configuration;
        ApplianceOptions options;
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
        var provenance = new ConfigurationProvenance(configuration);
        output.WriteLine($"# OpenAlgo Appliance {VersionInfo.Version}: effective configuration");
        output.WriteLine($"# layers, later wins: {string.Join(" < ", provenance.Layers())}");
        if (options.Sites.Count == 0)
        {
            // One implicit site: every key at the top level, as before sites existed.
            var site = options.DefaultSite();
            foreach (var key in ConfigurationKeys.All) Print(key, options, site, "", index => provenance.LayerOf(index));
        }
        else
        {
            foreach (var key in ConfigurationKeys.Of(KeyScope.Global)) Print(key, options, null!, "", index => provenance.LayerOf(index));
            foreach (var site in options.Sites)
            {
                output.WriteLine();
                output.WriteLine($"# site {site.Name}: {string.Join(", ", site.Tls.Domains)}");
                string prefix = $"Sites:{site.Name}:";
                foreach (var key in ConfigurationKeys.Of(KeyScope.Site))
                {
                    Print(key, options, site, prefix, full =>
                    {
                        // Set in the site, inherited from the top level, or the default.
                        if (provenance.ProviderOf(full) is not null) return $"{provenance.LayerOf(full)} (site {site.Name})";
                        string inherited = "Appliance:" + full["Appliance:".Length..][prefix.Length..];
                        if (key.ArraySection is { } array && configuration.GetSection($"Appliance:{prefix}{array}").GetChildren().Any()) return "built-in default";
                        return provenance.ProviderOf(inherited) is not null ? $"{provenance.LayerOf(inherited)} (inherited from {inherited})" : "built-in default";
                    });
                }
            }
            output.WriteLine();
        }
        foreach (var problem in UnknownKeys(configuration)) output.WriteLine("# " + problem);
        return 0;

        void Print(ConfigurationKey key, ApplianceOptions options, SiteOptions site, string prefix, Func<string, string> source)
        {
            int count = key.ArraySection is null ? 1 : int.MaxValue;
            for (int i = 0; i < count; i++)
            {
                string? shown = key.Show(options, site, i);
                if (shown is null && key.ArraySection is not null) break;
                string full = "Appliance:" + prefix + key.Pattern.Replace("*", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                if (key.Secret && !string.IsNullOrEmpty(shown)) shown = Redact(shown);
                output.WriteLine($"{full} = {shown ?? ""}    # {source(full)}");
            }
        }
    }

    /// <summary>
    /// Keys present in any layer that the appliance does not read, with the nearest known key; global
    /// keys set inside a site, which a site cannot change.
    /// </summary>
    public static IEnumerable<string> UnknownKeys(IConfiguration configuration)
    {
        var all = ConfigurationKeys.All.Select(k => k.Pattern).ToList();
        var siteKeys = ConfigurationKeys.Of(KeyScope.Site).Select(k => k.Pattern).ToList();
        foreach (var (key, value) in configuration.GetSection(ApplianceOptions.SectionName).AsEnumerable(makePathsRelative: true))
        {
            if (value is null) continue; // a section, not a leaf
            if (key.StartsWith("Sites:", StringComparison.OrdinalIgnoreCase))
            {
                string[] parts = key.Split(':', 3);
                if (parts.Length < 3)
                {
                    yield return $"Appliance:{key}: a site is a section of keys, not a value. Fix: write \"Sites\": {{\"NAME\": {{\"Tls\": {{\"Domains\": [\"…\"]}}, …}}}} ({ConfigurationReference.Where}, Sites).";
                    continue;
                }
                string pattern = ConfigurationKeys.Pattern(parts[2]);
                if (Known(siteKeys, pattern)) continue;
                if (Known(all, pattern))
                {
                    yield return $"Appliance:{key}: is a global key: one value serves every site. Fix: set Appliance:{parts[2]} outside Sites.";
                    continue;
                }
                yield return $"Appliance:{key}: unknown key. Fix: did you mean Appliance:Sites:{parts[1]}:{Nearest(siteKeys, pattern)}? (all keys: {ConfigurationReference.Where})";
                continue;
            }
            string plain = ConfigurationKeys.Pattern(key);
            if (Known(all, plain)) continue;
            yield return $"Appliance:{key}: unknown key. Fix: did you mean Appliance:{Nearest(all, plain)}? (all keys: {ConfigurationReference.Where})";
        }

        static bool Known(List<string> known, string pattern) =>
            known.Contains(pattern, StringComparer.OrdinalIgnoreCase) || known.Any(k => k.StartsWith(pattern + ":", StringComparison.OrdinalIgnoreCase));

        static string Nearest(List<string> known, string pattern) => known.OrderBy(k => Distance(k.ToUpperInvariant(), pattern.ToUpperInvariant())).First();
    }

    private static string Redact(string secret)
    {
        string digest = secret.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)
            ? secret[7..].ToLowerInvariant()
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        return $"(redacted, sha256 {digest[..8]}…)";
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
