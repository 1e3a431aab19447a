using Microsoft.Extensions.Configuration;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Builds the layered configuration. Later layers win:
/// embedded defaults (or demo defaults) → OpenAlgo .env names → appsettings.json →
/// appsettings.{Environment}.json → <c>--config FILE</c> → <c>Appliance__*</c> environment.
/// Demo mode skips the appsettings files: it runs on embedded defaults wherever it is started.
/// </summary>
internal static class ApplianceConfiguration
{
    public static IConfigurationRoot Build(ConfigurationRequest request)
    {
        var builder = new ConfigurationBuilder();
        builder.AddInMemoryCollection(request.Defaults);
        builder.Add(new OpenAlgoEnvironmentSource(request.Environment));
        if (!request.SkipAppSettings)
        {
            string directory = request.ConfigurationDirectory;
            builder.AddJsonFile(Path.Combine(directory, "appsettings.json"), optional: true, reloadOnChange: false);
            builder.AddJsonFile(Path.Combine(directory, $"appsettings.{request.EnvironmentName}.json"), optional: true, reloadOnChange: false);
        }
        if (!string.IsNullOrEmpty(request.ConfigFile))
        {
            string full = Path.GetFullPath(request.ConfigFile);
            if (!File.Exists(full))
            {
                throw new ConfigurationErrorsException([$"--config: file '{full}' does not exist. Fix: pass the path of an existing JSON file."]);
            }
            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        builder.Add(new PrefixedEnvironmentSource("Appliance__", request.Environment));
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException ex)
        {
            var files = builder.Sources.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationSource>()
                .Select(source => source.FileProvider?.GetFileInfo(source.Path ?? "").PhysicalPath ?? source.Path ?? "");
            throw new ConfigurationErrorsException([JsonFileErrors.Describe(ex, files)]);
        }
        catch (FormatException ex)
        {
            throw new ConfigurationErrorsException([$"{ex.Message} Fix: correct the JSON syntax."]);
        }
    }

    /// <summary>
    /// Binds and validates; throws <see cref="ConfigurationErrorsException"/> naming every bad key
    /// at once, with the file and line (or variable) it was set in.
    /// </summary>
    public static ApplianceOptions Bind(IConfiguration configuration, System.Collections.IDictionary? environment = null)
    {
        var options = new ApplianceOptions();
        var errors = new List<string>();
        var root = configuration.GetSection(ApplianceOptions.SectionName);
        foreach (var key in ConfigurationKeys.Of(KeyScope.Global))
        {
            if (key.ArraySection is { } array)
            {
                int index = 0;
                foreach (var element in root.GetSection(array).GetChildren())
                {
                    if (element.Value is { } item) Report(errors, $"{array}:{element.Key}", key.Bind(options, null!, index, item));
                    index++;
                }
                continue;
            }
            if (root[key.Pattern] is { } text) Report(errors, key.Pattern, key.Bind(options, null!, 0, text));
        }
        BindSite(root, null, options, options.DefaultSite(), errors);
        foreach (var section in root.GetSection("Sites").GetChildren())
        {
            var site = new SiteOptions { Name = section.Key };
            BindSite(root, section, options, site, errors);
            options.Sites.Add(site);
        }
        ApplyDirectoryDefaults(options, environment);
        errors.AddRange(ApplianceOptionsValidator.Validate(options));
        if (errors.Count > 0)
        {
            var provenance = configuration is IConfigurationRoot rooted ? new ConfigurationProvenance(rooted) : null;
            throw new ConfigurationErrorsException(errors.Distinct().Select(e => provenance is null ? e : Locate(e, provenance)).ToList());
        }
        return options;
    }

    /// <summary>
    /// A site's keys: its own section's value where it has one, else the top level's, else the
    /// default. An array is taken whole from the site when the site has it (a site listing one
    /// domain does not inherit the top level's second).
    /// </summary>
    private static void BindSite(IConfigurationSection root, IConfigurationSection? own, ApplianceOptions options, SiteOptions site, List<string> errors)
    {
        string prefix = own is null ? "" : $"Sites:{own.Key}:";
        foreach (var key in ConfigurationKeys.Of(KeyScope.Site))
        {
            if (key.ArraySection is { } array)
            {
                var ownArray = own?.GetSection(array);
                bool fromSite = ownArray is not null && ownArray.GetChildren().Any();
                var section = fromSite ? ownArray! : root.GetSection(array);
                int index = 0;
                foreach (var element in section.GetChildren())
                {
                    string? text = key.ElementKey is null ? element.Value : element[key.ElementKey];
                    if (text is not null)
                    {
                        string name = $"{(fromSite ? prefix : "")}{array}:{element.Key}{(key.ElementKey is null ? "" : ":" + key.ElementKey)}";
                        Report(errors, name, key.Bind(options, site, index, text));
                    }
                    index++;
                }
                continue;
            }
            if (own?[key.Pattern] is { } mine) Report(errors, prefix + key.Pattern, key.Bind(options, site, 0, mine));
            else if (root[key.Pattern] is { } inherited) Report(errors, key.Pattern, key.Bind(options, site, 0, inherited));
        }
    }

    private static void Report(List<string> errors, string key, string? problem)
    {
        if (problem is not null) errors.Add($"Appliance:{key}: {problem}.");
    }

    /// <summary>
    /// "Appliance:Limits:MaxClients: … Fix: …." + " (set in FILE, line N)". A site key that is not
    /// set in its site points at the top-level key it inherits.
    /// </summary>
    private static string Locate(string error, ConfigurationProvenance provenance)
    {
        int colon = error.IndexOf(": ", StringComparison.Ordinal);
        if (colon < 0) return error;
        string key = error[..colon];
        string? where = provenance.Locate(key);
        if (where is null && key.StartsWith("Appliance:Sites:", StringComparison.OrdinalIgnoreCase))
        {
            string[] parts = key.Split(':', 4);
            if (parts.Length == 4 && provenance.Locate("Appliance:" + parts[3]) is { } inherited) where = $"Appliance:{parts[3]}, inherited: {inherited}";
        }
        return where is null ? error : $"{error} (set in {where})";
    }

    private static void ApplyDirectoryDefaults(ApplianceOptions options, System.Collections.IDictionary? environment)
    {
        string? Env(string name) => environment is not null
            ? environment[name] as string
            : Environment.GetEnvironmentVariable(name);

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            options.StateDirectory = SystemdDirectory.Get("STATE_DIRECTORY", Env) ?? "state";
        }
        if (string.IsNullOrWhiteSpace(options.LogsDirectory))
        {
            options.LogsDirectory = SystemdDirectory.Get("LOGS_DIRECTORY", Env) ?? "logs";
        }
        options.StateDirectory = Path.GetFullPath(options.StateDirectory);
        options.LogsDirectory = Path.GetFullPath(options.LogsDirectory);
    }
}

/// <summary>What to layer: see <see cref="ApplianceConfiguration.Build"/>.</summary>
internal sealed record ConfigurationRequest
{
    public IDictionary<string, string?> Defaults { get; init; } = new Dictionary<string, string?>();
    public bool SkipAppSettings { get; init; }
    public string ConfigurationDirectory { get; init; } = Directory.GetCurrentDirectory();
    public string EnvironmentName { get; init; } = "Production";
    public string? ConfigFile { get; init; }
    /// <summary>Null means the process environment.</summary>
    public System.Collections.IDictionary? Environment { get; init; }
}
