using System.Diagnostics;
using OpenAlgo.Appliance.Migration.Planning;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// What the steps of <c>--apply</c> share: the root, the command runner, and the undo journal each
/// step appends to <em>before</em> it changes anything, so a failure at any point undoes exactly what was done.
/// </summary>
internal sealed class ApplyContext(SystemRoot root, TextWriter output, CommandRunner commands, TimeProvider time)
{
    public const string BackupDirectory = MigrationPlan.MigrationDirectory + "/backup";

    private readonly HashSet<string> _saved = new(StringComparer.Ordinal);

    public SystemRoot Root => root;
    public TextWriter Output => output;
    public CommandRunner Commands => commands;
    public TimeProvider Time => time;

    /// <summary>Undo actions in the order their steps ran.</summary>
    public List<UndoAction> Journal { get; } = [];

    /// <summary>
    /// Records how to bring <paramref name="systemPath"/> back as it is now, once per path: a copy made
    /// with <c>cp -a</c> (a file's bytes, mode, owner and times; a link as the same link), or its absence.
    /// </summary>
    public void Save(string systemPath)
    {
        if (!_saved.Add(systemPath)) return;
        string real = root.MapEntry(systemPath);
        if (!File.Exists(real) && new FileInfo(real).LinkTarget is null)
        {
            Journal.Add(new RemoveFile(systemPath));
            return;
        }
        string backup = BackupDirectory + systemPath;
        string backupReal = root.Map(backup);
        CreatePrivateDirectories(Path.GetDirectoryName(backup)!);
        Copy(real, backupReal);
        Journal.Add(new RestoreFile(systemPath, backup));
    }

    /// <summary>Replaces a file's content atomically keeping its owner and mode (a copy made with <c>cp -a</c>, written, renamed over it).</summary>
    public void Rewrite(string systemPath, string content)
    {
        string real = root.Open(systemPath);
        string temp = Path.Combine(Path.GetDirectoryName(real)!, $".{Path.GetFileName(real)}.openalgo-appliance.tmp");
        Copy(real, temp);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Truncate, FileAccess.Write))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, real, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Directories (system paths) created where missing (0700 for the migration's own: backups hold OpenAlgo's secrets); each recorded for removal.</summary>
    public void CreatePrivateDirectories(string systemDirectory, bool journal = false)
    {
        string current = "";
        foreach (var part in systemDirectory.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current += "/" + part;
            string real = root.Map(current);
            if (Directory.Exists(real)) continue;
            bool ours = current.StartsWith(MigrationPlan.MigrationDirectory, StringComparison.Ordinal);
            if (journal) Journal.Add(new RemoveDirectory(current));
            Directory.CreateDirectory(real, ours
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>Carries out undo actions now (an --apply that failed): files first, then services in reverse order.</summary>
    public List<string> Undo(IEnumerable<UndoAction> actions)
    {
        var failures = new List<string>();
        var list = actions.ToList();
        foreach (var action in list.Where(a => a.IsFile).Reverse())
        {
            try
            {
                switch (action)
                {
                    case RestoreFile restore:
                        Copy(root.Map(restore.Backup), root.MapEntry(restore.SystemPath));
                        output.WriteLine($"  restored {restore.SystemPath}");
                        break;
                    case RemoveFile remove:
                        string path = root.MapEntry(remove.SystemPath);
                        if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
                        {
                            File.Delete(path);
                            output.WriteLine($"  removed {remove.SystemPath}");
                        }
                        break;
                    case RemoveDirectory directory:
                        string dir = root.Map(directory.SystemPath);
                        if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
                        break;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or MigrationException)
            {
                failures.Add($"{action}: {ex.Message}");
            }
        }
        foreach (var action in list.OfType<RunCommand>().Reverse())
        {
            var (exit, text) = commands.Run(action.Command);
            if (exit != 0) failures.Add($"{string.Join(' ', action.Command)}: exit {exit} {text}");
        }
        return failures;
    }

    /// <summary><c>cp -a</c>: the file's bytes with its mode, owner and times (what rollback.sh uses too).</summary>
    public static void Copy(string from, string to)
    {
        var start = new ProcessStartInfo("cp") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-a", "--remove-destination", "--", from, to }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new MigrationException($"cp -a {from} {to} failed: {error.Trim()}");
    }
}
