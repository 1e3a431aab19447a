using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting.Logging;
using OpenAlgo.Appliance.Infrastructure;
using Serilog;
using Serilog.Events;

namespace OpenAlgo.Appliance.Hosting;

/// <summary><c>run</c> and <c>demo</c>: load and validate configuration, start, wait for SIGTERM/SIGINT.</summary>
internal static class ApplianceApp
{
    public const int ConfigurationError = 1;

    public static async Task<int> RunAsync(bool demo, string? configFile, TextWriter output, TextWriter error, CancellationToken cancellationToken, Tls.OpenSslPolicyResult? tlsPolicy = null)
    {
        if (tlsPolicy?.Problem is { } policyProblem)
        {
            await error.WriteLineAsync(policyProblem);
            return ConfigurationError;
        }
        ApplianceOptions options;
        try
        {
            options = Load(demo, configFile);
        }
        catch (ConfigurationErrorsException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return ConfigurationError;
        }

        string? demoKey = null;
        var level = new Serilog.Core.LoggingLevelSwitch(Enum.Parse<LogEventLevel>(options.LogLevel, ignoreCase: true));
        Serilog.Core.Logger createdLogger;
        try
        {
            if (demo)
            {
                demoKey = DemoKeyStore.LoadOrCreate(options.StateDirectory);
                options.Auth.StaticKeys.Add(new StaticKeyOptions { Key = demoKey, UserId = DemoDefaults.UserId, Broker = DemoDefaults.Broker });
            }
            createdLogger = SerilogSetup.Create(options.LogsDirectory, level);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // Nothing logs yet (the logs directory may be the problem): one line on stderr.
            await error.WriteLineAsync(DescribeDirectoryFailure(ex, options) ?? ex.Message);
            return ConfigurationError;
        }
        await using var logger = createdLogger;
        if (tlsPolicy?.Fallback is { } fallback)
        {
            logger.Warning("RUNTIME_DIRECTORY is not usable ({Reason}); the TLS policy was loaded from a private temporary file instead", fallback);
        }
        foreach (var site in demo ? [] : options.EffectiveSites)
        {
            if (Proxy.FlaskAppNotConfigured.Warning(site) is { } noFlaskApp) logger.Warning("{Warning}", noFlaskApp);
        }
        foreach (var site in options.EffectiveSites)
        {
            if (site.Auth.Mode == AuthMode.StaticKeys && site.Auth.StaticKeys.Count == 0)
            {
                logger.Warning("No API keys are configured (Appliance:{Prefix}Auth:StaticKeys); every authenticate will be refused with \"Invalid API key\"", site.KeyPrefix);
            }
        }

        WebApplication app;
        try
        {
            var origin = new ConfigurationOrigin(ConfigurationFileToEdit(demo, configFile));
            app = ApplianceHost.Build(options, logging => logging.AddSerilog(logger), services => services.AddSingleton(origin));
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            await error.WriteLineAsync(ex.Message);
            return ConfigurationError;
        }

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            // An operator's mistake (a busy port, a state directory the service user cannot write): one line naming the key and the fix; the stack
            // trace only at Debug (the host's own "Hosting failed to start" is filtered out).
            string message = DescribeStartFailure(ex, options);
            logger.Debug(ex, "Startup failed");
            logger.Fatal("Startup failed: {Message}", message);
            await error.WriteLineAsync(message);
            await app.DisposeAsync();
            return ConfigurationError;
        }

        using var reloader = new ConfigurationReloader(
            () =>
            {
                var fresh = Load(demo, configFile);
                if (demoKey is not null) fresh.Auth.StaticKeys.Add(new StaticKeyOptions { Key = demoKey, UserId = DemoDefaults.UserId, Broker = DemoDefaults.Broker });
                return fresh;
            },
            options, app.Services, level, app.Services.GetRequiredService<ILogger<ConfigurationReloader>>());
        reloader.Listen();

        var registry = app.Services.GetRequiredService<ListenerRegistry>();
        if (options.Sites.Count == 0)
        {
            logger.Information("OpenAlgo Appliance {Version} ready: https {Https}, http {Http}, internal {Internal}; market data from {Source}; admin {Admin}",
                VersionInfo.Version, registry.Describe(ListenerKind.Https), registry.Describe(ListenerKind.Http),
                registry.Describe(ListenerKind.Internal), options.MarketData.Source, registry.Describe(ListenerKind.Admin));
        }
        else
        {
            logger.Information("OpenAlgo Appliance {Version} ready: https {Https}, http {Http}; sites {Sites}; admin {Admin}",
                VersionInfo.Version, registry.Describe(ListenerKind.Https), registry.Describe(ListenerKind.Http),
                string.Join("; ", options.Sites.Select(site => $"{site.Name} ({string.Join(", ", site.Tls.Domains)}: internal {registry.Describe(ListenerKind.Internal, site.Name)}, market data from {site.MarketData.Source})")),
                registry.Describe(ListenerKind.Admin));
        }
        if (demoKey is not null)
        {
            await output.WriteLineAsync($"Demo API key: {demoKey}");
            await output.WriteLineAsync($"Market data: wss://localhost:{registry.EndPoint(ListenerKind.Https)?.Port}/ws (self-signed) or ws://{registry.EndPoint(ListenerKind.Internal)}/ — Ctrl+C stops.");
            await output.FlushAsync(cancellationToken);
        }

        await app.WaitForShutdownAsync(cancellationToken);
        await app.DisposeAsync();
        return 0;
    }

    public static ApplianceOptions Load(bool demo, string? configFile) => ApplianceConfiguration.Bind(BuildConfiguration(demo, configFile));

    public static IConfigurationRoot BuildConfiguration(bool demo, string? configFile)
    {
        return ApplianceConfiguration.Build(new ConfigurationRequest
        {
            Defaults = demo ? DemoDefaults.Values : new Dictionary<string, string?>(),
            SkipAppSettings = demo,
            ConfigurationDirectory = ConfigurationDirectory(),
            EnvironmentName = EnvironmentName(),
            ConfigFile = configFile,
        });
    }

    /// <summary>
    /// Where appsettings*.json are read from: systemd's <c>$CONFIGURATION_DIRECTORY</c>; else the
    /// current directory when it has them (a tarball install, development); else the package's
    /// <c>/etc/openalgo-appliance</c>, so <c>openalgo-appliance check</c> run by hand checks the installed file.
    /// </summary>
    public static string ConfigurationDirectory()
    {
        if (SystemdDirectory.Get("CONFIGURATION_DIRECTORY") is { } systemd) return systemd;
        string current = Directory.GetCurrentDirectory();
        if (Directory.EnumerateFiles(current, "appsettings*.json").Any()) return current;
        return Directory.Exists(PackageConfigurationDirectory) ? PackageConfigurationDirectory : current;
    }

    public const string PackageConfigurationDirectory = "/etc/openalgo-appliance";

    /// <summary>The file to name when telling an operator what to set (see <see cref="ConfigurationOrigin"/>).</summary>
    public static string ConfigurationFileToEdit(bool demo, string? configFile)
    {
        if (!string.IsNullOrEmpty(configFile)) return Path.GetFullPath(configFile);
        if (demo) return "a file passed with --config (the demo reads no appsettings files)";
        return Path.Combine(ConfigurationDirectory(), $"appsettings.{EnvironmentName()}.json");
    }

    private static string EnvironmentName() =>
        Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";

    private static string DescribeStartFailure(Exception ex, ApplianceOptions options)
    {
        if (ex is UnauthorizedAccessException or DirectoryNotFoundException && DescribeDirectoryFailure(ex, options) is { } directory) return directory;
        var listeners = new List<(string Key, string Value)> { ("Listen:Https", options.Listen.Https), ("Listen:Http", options.Listen.Http), ("Listen:Admin", options.Listen.Admin) };
        listeners.AddRange(options.EffectiveSites.Select(site => ($"{site.KeyPrefix}Listen:Internal", site.Listen.Internal)));
        foreach (var (key, value) in listeners)
        {
            if (string.IsNullOrEmpty(value) || !ListenAddress.TryParse(value, out var endPoint)) continue;
            if (ex.Message.Contains(endPoint.ToString(), StringComparison.Ordinal) || ex.Message.Contains($":{endPoint.Port}", StringComparison.Ordinal))
            {
                string hint = key == "Listen:Admin"
                    ? "another appliance (or something else) has that port: choose another one, or an empty Listen:Admin to run without the admin listener"
                    : endPoint.Port < 1024
                    ? "run as root or with CAP_NET_BIND_SERVICE (the systemd unit does), use socket activation, or choose a port above 1023"
                    : "stop whatever listens there (OpenAlgo's own proxy uses 8765) or choose another port";
                return $"Appliance:{key}: cannot listen on {value}: {ex.Message.TrimEnd('.')}. Fix: {hint}.";
            }
        }
        return ex.Message;
    }

    /// <summary>
    /// The state (certificates, keys, ACME account) or logs directory the service user cannot
    /// create or write: which key, which path, as whom, and the fix — not a stack trace.
    /// </summary>
    private static string? DescribeDirectoryFailure(Exception ex, ApplianceOptions options)
    {
        foreach (var (key, directory) in new[] { ("StateDirectory", options.StateDirectory), ("LogsDirectory", options.LogsDirectory) })
        {
            if (string.IsNullOrEmpty(directory)) continue;
            string full = Path.GetFullPath(directory);
            // The path the runtime names is the directory, a file under it, or a parent it could not create.
            int open = ex.Message.IndexOf('\'', StringComparison.Ordinal), close = open < 0 ? -1 : ex.Message.IndexOf('\'', open + 1);
            if (close < 0) continue;
            string named = ex.Message[(open + 1)..close].TrimEnd('/');
            if (!(named == full || named.StartsWith(full + "/", StringComparison.Ordinal) || full.StartsWith(named + "/", StringComparison.Ordinal))) continue;
            string reason = ex is UnauthorizedAccessException ? "permission denied" : "a part of the path does not exist or is not a directory";
            return $"Appliance:{key}: cannot create or write {full} ({reason}) as user {Environment.UserName}. "
                + $"Fix: make it writable by that user (the package's unit runs as openalgo-appliance with StateDirectory=/LogsDirectory= managing /var/lib and /var/log/openalgo-appliance), or set Appliance:{key} to a directory it can write.";
        }
        return null;
    }
}
