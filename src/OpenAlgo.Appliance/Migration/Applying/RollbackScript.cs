using System.Text;
using OpenAlgo.Appliance.Migration.Planning;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// <c>rollback.sh</c>: the undo journal as a POSIX shell script. It checks every backup is there
/// before it changes anything, stops the appliance, puts each changed file back byte for byte
/// (<c>cp -a</c>: content, mode, owner, times), removes what the migration created, then brings the
/// services back in the reverse order they were changed. A step that fails is reported and the
/// rest still runs, so nginx comes back even if, say, certbot's timer does not; the exit code says so.
/// Written for a rehearsal (<c>--root DIR</c>) it works on DIR and prints the service commands.
/// </summary>
internal static class RollbackScript
{
    public static string Write(SystemRoot root, IReadOnlyList<UndoAction> journal, string header)
    {
        var script = new StringBuilder();
        script.Append("#!/bin/sh\n");
        script.Append("# Undoes 'openalgo-appliance migrate --apply' (").Append(header).Append(").\n");
        script.Append("# Run as root: sudo sh ").Append(MigrationPlan.RollbackScript).Append('\n');
        script.Append("# Stops the appliance, puts every file the migration changed back byte for byte, and\n");
        script.Append("# brings back the services it stopped. Safe to run again.\n");
        script.Append("set -u\n");
        script.Append("ROOT=").Append(Shell.Quote(root.IsLive ? "" : root.Directory)).Append("   # empty: this machine; else the directory a --root rehearsal used\n");
        script.Append("fail=0\n");
        script.Append("run() {\n");
        script.Append("    if [ -n \"$ROOT\" ]; then echo \"(--root rehearsal: not run) $*\"; return 0; fi\n");
        script.Append("    echo \"+ $*\"\n");
        script.Append("    \"$@\" || { echo \"rollback.sh: FAILED: $*\" >&2; fail=1; }\n");
        script.Append("}\n");
        script.Append("restore() {\n");
        script.Append("    if cp -a --remove-destination -- \"$ROOT$1\" \"$ROOT$2\"; then echo \"restored $2\"; else echo \"rollback.sh: FAILED to restore $2 from $1\" >&2; fail=1; fi\n");
        script.Append("}\n");
        script.Append("remove() {\n");
        script.Append("    if [ -e \"$ROOT$1\" ] || [ -L \"$ROOT$1\" ]; then rm -f -- \"$ROOT$1\" && echo \"removed $1\" || { echo \"rollback.sh: FAILED to remove $1\" >&2; fail=1; }; fi\n");
        script.Append("}\n");
        script.Append("[ -n \"$ROOT\" ] || [ \"$(id -u)\" = 0 ] || { echo \"rollback.sh: run as root (sudo sh $0)\" >&2; exit 1; }\n\n");

        var restores = journal.OfType<RestoreFile>().ToList();
        script.Append("# 1. Every backup must be there before anything changes.\n");
        if (restores.Count == 0) script.Append("# (no file was backed up)\n");
        foreach (var restore in restores)
        {
            script.Append("[ -e \"$ROOT\"").Append(Shell.Quote(restore.Backup)).Append(" ] || [ -L \"$ROOT\"").Append(Shell.Quote(restore.Backup)).Append(" ] || { echo \"rollback.sh: the backup ")
                .Append(restore.Backup).Append(" is missing; nothing was changed\" >&2; exit 1; }\n");
        }

        var commands = journal.OfType<RunCommand>().Reverse().ToList();
        var stopAppliance = commands.FirstOrDefault(c => c.Command.Contains(MigrationPlan.ApplianceService) && c.Command.Contains("disable"));
        script.Append("\n# 2. Stop the appliance: it frees 80, 443 and the internal ports for nginx and OpenAlgo's proxies.\n");
        if (stopAppliance is not null) script.Append("run ").Append(string.Join(' ', stopAppliance.Command.Select(Shell.Quote))).Append('\n');
        else script.Append("# (the migration did not start it)\n");

        script.Append("\n# 3. Files as they were before the migration.\n");
        foreach (var action in journal.Where(a => a.IsFile).Reverse())
        {
            switch (action)
            {
                case RestoreFile restore:
                    script.Append("restore ").Append(Shell.Quote(restore.Backup)).Append(' ').Append(Shell.Quote(restore.SystemPath)).Append('\n');
                    break;
                case RemoveFile remove:
                    script.Append("remove ").Append(Shell.Quote(remove.SystemPath)).Append('\n');
                    break;
                case RemoveDirectory directory:
                    script.Append("rmdir -- \"$ROOT\"").Append(Shell.Quote(directory.SystemPath)).Append(" 2>/dev/null || true\n");
                    break;
            }
        }

        script.Append("\n# 4. Services back, in the reverse order they were changed.\n");
        foreach (var command in commands.Where(c => c != stopAppliance))
        {
            script.Append("run ").Append(string.Join(' ', command.Command.Select(Shell.Quote))).Append("   # ").Append(command.Why).Append('\n');
        }

        script.Append("\nif [ \"$fail\" = 0 ]; then\n");
        script.Append("    date -u '+rolled back %Y-%m-%dT%H:%M:%SZ' > \"$ROOT\"").Append(Shell.Quote(MigrationPlan.MigrationDirectory + "/rolled-back")).Append('\n');
        script.Append("    echo \"rollback complete: nginx serves the sites again\"\n");
        script.Append("else\n");
        script.Append("    echo \"rollback.sh: some steps failed (above); fix them and run it again\" >&2\n");
        script.Append("    exit 1\n");
        script.Append("fi\n");
        return script.ToString();
    }
}
