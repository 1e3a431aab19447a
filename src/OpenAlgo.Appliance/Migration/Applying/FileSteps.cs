using OpenAlgo.Appliance.Migration.Planning;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>Writes the appliance configuration (the file it replaces is backed up) and checks it as <c>openalgo-appliance check</c> would.</summary>
internal sealed class WriteConfigurationStep(MigrationPlan plan, Func<string, IReadOnlyList<string>> check) : MigrationStep
{
    public override string Description => $"write {MigrationPlan.ConfigurationFile} and check it";

    public override void Run(ApplyContext context)
    {
        // Directories first: undone in reverse, the file goes before its directory.
        context.CreatePrivateDirectories(Path.GetDirectoryName(MigrationPlan.ConfigurationFile)!, journal: true);
        context.Save(MigrationPlan.ConfigurationFile);
        AtomicFile.WriteAllText(context.Root.Open(MigrationPlan.ConfigurationFile), plan.ConfigurationJson,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var problems = check(context.Root.Open(MigrationPlan.ConfigurationFile));
        if (problems.Count > 0)
        {
            throw new MigrationException("the written configuration does not pass check:\n    " + string.Join("\n    ", problems));
        }
        context.Output.WriteLine("  configuration OK");
    }
}

/// <summary>Moves one OpenAlgo instance's proxy: <c>WEBSOCKET_PORT</c> in its .env, the only line changed (backed up first).</summary>
internal sealed class EditEnvironmentStep(SitePlan site) : MigrationStep
{
    public override string Description => $"{site.EnvBefore} → {site.EnvAfter}";

    public override void Run(ApplyContext context)
    {
        string current = context.Root.ReadAllText(site.EnvFile);
        if (current != site.Instance.Env.Text)
        {
            throw new MigrationException($"{site.EnvFile} changed since it was read; run migrate again");
        }
        context.Save(site.EnvFile);
        context.Rewrite(site.EnvFile, site.Instance.Env.With("WEBSOCKET_PORT", site.NewWebSocketPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}

/// <summary>Takes migrated server blocks out of nginx when it keeps running for others (a sites-enabled link or a conf.d file).</summary>
internal sealed class DisableNginxEntryStep(string entry) : MigrationStep
{
    public override string Description => $"take {entry} out of nginx (nginx keeps serving the other server blocks)";

    public override void Run(ApplyContext context)
    {
        context.Save(entry);
        File.Delete(context.Root.MapEntry(entry));
    }
}

/// <summary>Takes a certbot lineage the appliance now renews off certbot's list (its timer stays for the others).</summary>
internal sealed class ParkRenewalStep(string renewalFile) : MigrationStep
{
    public override string Description => $"stop certbot renewing {Path.GetFileNameWithoutExtension(renewalFile)}: {renewalFile} set aside (restored by rollback.sh)";

    public override void Run(ApplyContext context)
    {
        context.Save(renewalFile);
        File.Delete(context.Root.MapEntry(renewalFile));
    }
}
