using OpenAlgo.Appliance.Migration.Planning;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// Carries a plan out step by step. rollback.sh is rewritten after every step, so it always
/// describes what has been done; if a step fails, the steps done so far are undone at once
/// (the same actions rollback.sh holds) and the command exits 1.
/// </summary>
internal sealed class MigrationApplier(SystemRoot root, TextWriter output, TextWriter error, CommandRunner commands, TimeProvider time)
{
    public int Apply(MigrationPlan plan, IReadOnlyList<MigrationStep> steps)
    {
        var context = new ApplyContext(root, output, commands, time);
        string header = $"{time.GetUtcNow():yyyy-MM-ddTHH:mm:ssZ}, {plan.Sites.Count} site(s): {string.Join(", ", plan.Sites.Select(s => s.Name))}";
        output.WriteLine();
        output.WriteLine($"Applying ({steps.Count} steps){(root.IsLive ? "" : $" under {root.Directory}: files are changed there, commands only printed")}");
        for (int i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            output.WriteLine($"[{i + 1}/{steps.Count}] {step.Description}");
            try
            {
                step.Run(context);
            }
            catch (Exception ex) when (ex is MigrationException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                error.WriteLine($"migrate: step {i + 1} failed: {ex.Message}");
                WriteRollback(context, header);
                output.WriteLine("Rolling back what was done:");
                var failures = context.Undo(context.Journal);
                if (failures.Count == 0)
                {
                    Mark(context, "rolled-back", $"rolled back automatically after step {i + 1} failed: {ex.Message}");
                    output.WriteLine("Rolled back: the server is as it was before migrate --apply.");
                    return 1;
                }
                foreach (var failure in failures) error.WriteLine("migrate: rollback: " + failure);
                error.WriteLine($"migrate: the automatic rollback did not finish; fix the above and run: sudo sh {root.Display(MigrationPlan.RollbackScript)}");
                return 2;
            }
            WriteRollback(context, header);
        }
        Mark(context, "applied", $"applied {header}");
        output.WriteLine();
        output.WriteLine($"Migrated {plan.Sites.Count} site(s): {string.Join(", ", plan.Sites.SelectMany(s => s.Domains))}.");
        output.WriteLine($"To go back to nginx: sudo sh {root.Display(MigrationPlan.RollbackScript)}");
        output.WriteLine("With an API key of each site: openalgo-appliance verify https://DOMAIN/ --api-key KEY (authenticate, subscribe, first tick).");
        return 0;
    }

    /// <summary>
    /// The service's unit mounts rollback.sh read-only into the service's namespace (ReadOnlyPaths=),
    /// and that mount holds the file it found at start. Replaced by a rename, the script root runs
    /// would be a new, unprotected file in a directory the service may write: so after its first
    /// version it is rewritten in place. A complete copy is written atomically first, in the
    /// migration's own directory, in case the machine stops in the middle of the rewrite.
    /// </summary>
    private void WriteRollback(ApplyContext context, string header)
    {
        const UnixFileMode executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        string script = RollbackScript.Write(root, context.Journal, header);
        context.CreatePrivateDirectories(MigrationPlan.MigrationDirectory);
        AtomicFile.WriteAllText(root.Map(MigrationPlan.MigrationDirectory + "/rollback.sh"), script, executable);
        string path = root.Map(MigrationPlan.RollbackScript);
        if (!File.Exists(path))
        {
            AtomicFile.WriteAllText(path, script, executable);
            return;
        }
        using var stream = new FileStream(path, FileMode.Truncate, FileAccess.Write);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(script));
        stream.Flush(flushToDisk: true);
    }

    private void Mark(ApplyContext context, string name, string text)
    {
        context.CreatePrivateDirectories(MigrationPlan.MigrationDirectory);
        AtomicFile.WriteAllText(root.Map(MigrationPlan.MigrationDirectory + "/" + name), text + "\n");
    }
}
