using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;
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
        try
        {
            ApplianceConfiguration.Bind(configuration);
        }
        catch (ConfigurationErrorsException ex)
        {
            problems.AddRange(ex.Errors);
        }
        if (problems.Count > 0)
        {
            error.WriteLine("Invalid configuration:");
            foreach (var problem in problems) error.WriteLine("  " + problem);
            return ApplianceApp.ConfigurationError;
        }
        output.WriteLine($"configuration OK ({string.Join(", ", Layers(configuration))})");
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
        output.WriteLine($"# OpenAlgo Appliance {VersionInfo.Version}: effective configuration");
        output.WriteLine($"# layers, later wins: {string.Join(" < ", Layers(configuration))}");
        foreach (var (pattern, value, secret) in ConfigurationKeys.Known)
        {
            int count = pattern.Contains('*') ? CountIndices(configuration, pattern) : 1;
            for (int i = 0; i < count; i++)
            {
                string key = "Appliance:" + pattern.Replace("*", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                string? shown = value(options, i);
                if (secret && !string.IsNullOrEmpty(shown)) shown = Redact(shown);
                output.WriteLine($"{key} = {shown ?? ""}    # {SourceOf(configuration, key)}");
            }
        }
        foreach (var problem in UnknownKeys(configuration)) output.WriteLine("# " + problem);
        return 0;
    }

    /// <summary>Keys present in any layer that the appliance does not read, with the nearest known key.</summary>
    public static IEnumerable<string> UnknownKeys(IConfiguration configuration)
    {
        var known = ConfigurationKeys.Known.Select(k => k.Key).ToList();
        foreach (var (key, value) in configuration.GetSection(ApplianceOptions.SectionName).AsEnumerable(makePathsRelative: true))
        {
            if (value is null) continue; // a section, not a leaf
            string pattern = ConfigurationKeys.Pattern(key);
            if (known.Contains(pattern, StringComparer.OrdinalIgnoreCase)) continue;
            if (known.Any(k => k.StartsWith(pattern + ":", StringComparison.OrdinalIgnoreCase))) continue;
            string nearest = known.OrderBy(k => Distance(k.ToUpperInvariant(), pattern.ToUpperInvariant())).First();
            yield return $"Appliance:{key}: unknown key. Fix: did you mean Appliance:{nearest}? (all keys: docs/configuration.md)";
        }
    }

    private static int CountIndices(IConfiguration configuration, string pattern)
    {
        string section = "Appliance:" + pattern[..pattern.IndexOf(":*", StringComparison.Ordinal)];
        return configuration.GetSection(section).GetChildren().Count();
    }

    private static string SourceOf(IConfigurationRoot configuration, string key)
    {
        foreach (var provider in configuration.Providers.Reverse())
        {
            if (provider.TryGet(key, out _)) return Describe(provider);
        }
        return "built-in default";
    }

    // Optional JSON files that do not exist are not layers anyone needs to hear about.
    private static IEnumerable<string> Layers(IConfigurationRoot configuration) => configuration.Providers
        .Where(p => p is not JsonConfigurationProvider json || json.Source.FileProvider?.GetFileInfo(json.Source.Path ?? "").Exists != false)
        .Select(Describe).Distinct();

    private static string Describe(IConfigurationProvider provider) => provider switch
    {
        MemoryConfigurationProvider => "built-in default",
        JsonConfigurationProvider json => "file " + json.Source.Path,
        _ when provider.GetType().DeclaringType == typeof(OpenAlgoEnvironmentSource) => "OpenAlgo .env name",
        _ when provider.GetType().DeclaringType == typeof(PrefixedEnvironmentSource) => "environment Appliance__*",
        _ => provider.ToString() ?? "?",
    };

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
