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
            throw new ConfigurationErrorsException([$"{ex.Message} Fix: correct the JSON syntax."]);
        }
        catch (FormatException ex)
        {
            throw new ConfigurationErrorsException([$"{ex.Message} Fix: correct the JSON syntax."]);
        }
    }

    /// <summary>Binds and validates; throws <see cref="ConfigurationErrorsException"/> naming each bad key.</summary>
    public static ApplianceOptions Bind(IConfiguration configuration, System.Collections.IDictionary? environment = null)
    {
        var options = new ApplianceOptions();
        try
        {
            configuration.GetSection(ApplianceOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder says "Failed to convert configuration value '…' at 'Appliance:Limits:MaxClients' to type 'System.Int32'."
            throw new ConfigurationErrorsException([$"{ex.Message} Fix: give that key a value of the right type (see docs/configuration.md)."]);
        }
        ApplyDirectoryDefaults(options, environment);
        var errors = ApplianceOptionsValidator.Validate(options);
        if (errors.Count > 0) throw new ConfigurationErrorsException(errors);
        return options;
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
