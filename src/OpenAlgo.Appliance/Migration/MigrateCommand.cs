using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Migration.Applying;
using OpenAlgo.Appliance.Migration.Nginx;
using OpenAlgo.Appliance.Migration.Planning;

namespace OpenAlgo.Appliance.Migration;

/// <summary>
/// <c>migrate [--root DIR] [--nginx-dump FILE] [--apply]</c>: reads the nginx setup the appliance
/// replaces and prints the plan (the default, a dry run), or carries it out with <c>--apply</c>.
/// Exit 0 when a plan exists (and, with --apply, was carried out), 1 when nothing can be migrated,
/// the plan is blocked, or a step failed and was rolled back; 2 when that rollback itself failed.
/// </summary>
internal sealed partial class MigrateCommand(TextWriter output, TextWriter error, TimeProvider time)
{
    /// <summary>How long --apply waits for OpenAlgo's proxies after the restart (gunicorn imports all of OpenAlgo first).</summary>
    public static TimeSpan ProxyWait { get; set; } = TimeSpan.FromSeconds(120);

    public int Run(string rootDirectory, string? nginxDump, bool apply)
    {
        var root = new SystemRoot(rootDirectory);
        if (!Directory.Exists(root.Directory))
        {
            error.WriteLine($"migrate: --root {rootDirectory} is not a directory.");
            return 1;
        }
        if (root.IsLive && Environment.UserName != "root")
        {
            error.WriteLine("migrate: run as root (sudo openalgo-appliance migrate): it reads certbot's keys and OpenAlgo's .env files" + (apply ? " and changes them." : "."));
            return 1;
        }
        try
        {
            INginxFiles files = nginxDump is null ? new RootedNginxFiles(root) : ReadDump(nginxDump);
            var plan = new MigrationPlanner(root, files).Plan();
            bool? running = root.IsLive ? CommandRunner.Succeeds(["systemctl", "is-active", "--quiet", MigrationPlan.ApplianceService]) : null;
            var steps = MigrationSteps.For(plan, root, file => Check(root, file), ProxyWait, running);
            PlanPrinter.Print(plan, steps, output, apply);
            if (plan.Sites.Count == 0 || plan.AlreadyMigrated is not null) return 1;
            if (!apply) return 0;
            if (!plan.CanApply) return 1;
            if (!ApplianceInstalled(root))
            {
                error.WriteLine($"migrate: {MigrationPlan.ApplianceService} is not installed. Fix: sudo apt install ./openalgo-appliance_<version>_amd64.deb (or openalgo-appliance install) first.");
                return 1;
            }
            return new MigrationApplier(root, output, error, new CommandRunner(output, root.IsLive), time).Apply(plan, steps);
        }
        catch (MigrationException ex)
        {
            error.WriteLine("migrate: " + ex.Message);
            return 1;
        }
    }

    private static NginxDump ReadDump(string path)
    {
        try
        {
            return NginxDump.Parse(path, File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MigrationException($"--nginx-dump {path}: {ex.Message}. Fix: sudo nginx -T > {path} 2>&1, then pass that file.");
        }
    }

    private static bool ApplianceInstalled(SystemRoot root) =>
        new[] { "/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/" }.Any(d => root.FileExists(d + MigrationPlan.ApplianceService));

    /// <summary>
    /// <c>check</c> of the written file as the service would read it (its configuration directory,
    /// the Production environment, no environment variables). Under --root a path the file names is
    /// looked up in the rehearsal tree.
    /// </summary>
    private static IReadOnlyList<string> Check(SystemRoot root, string realConfigurationFile)
    {
        IConfigurationRoot configuration;
        try
        {
            configuration = ApplianceConfiguration.Build(new ConfigurationRequest
            {
                ConfigurationDirectory = Path.GetDirectoryName(realConfigurationFile)!,
                EnvironmentName = "Production",
                Environment = new System.Collections.Hashtable(),
            });
        }
        catch (ConfigurationErrorsException ex)
        {
            return ex.Errors;
        }
        var problems = ConfigurationCommands.UnknownKeys(configuration).ToList();
        try
        {
            ApplianceConfiguration.Bind(configuration, new System.Collections.Hashtable());
        }
        catch (ConfigurationErrorsException ex)
        {
            problems.AddRange(ex.Errors);
        }
        if (!root.IsLive)
        {
            problems.RemoveAll(p => MissingPath().Match(p) is { Success: true } m && root.FileExists(m.Groups["path"].Value));
        }
        return problems;
    }

    [GeneratedRegex("'(?<path>/[^']+)' does not exist")]
    private static partial Regex MissingPath();
}
