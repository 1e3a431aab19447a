using System.Diagnostics;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// Runs systemctl, snap and nginx for <c>--apply</c>; under <c>--root</c> it prints each command
/// instead (the rehearsal runs nothing on the machine).
/// </summary>
internal class CommandRunner(TextWriter output, bool live)
{
    public bool Live => live;

    /// <summary>Runs (or prints) the command; returns its exit code and output.</summary>
    public virtual (int Exit, string Output) Run(IReadOnlyList<string> command)
    {
        string line = string.Join(' ', command.Select(Shell.Quote));
        if (!live)
        {
            output.WriteLine($"  (--root: not run) {line}");
            return (0, "");
        }
        output.WriteLine($"  $ {line}");
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1)) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                return (124, $"{line}: no answer within 5 minutes");
            }
            process.WaitForExit();
            string text = (stdout.Result + stderr.Result).Trim();
            return (process.ExitCode, text);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (127, $"{command[0]}: {ex.Message}");
        }
    }

    /// <summary>Asks the machine a question (<c>systemctl is-active</c>) without printing it: true when the command exits 0.</summary>
    public static bool Succeeds(IReadOnlyList<string> command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1)) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            _ = stderr.Result;
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Runs and throws a <see cref="MigrationException"/> naming the command when it fails.</summary>
    public void Require(IReadOnlyList<string> command)
    {
        var (exit, text) = Run(command);
        if (exit != 0) throw new MigrationException($"{string.Join(' ', command)} failed (exit {exit}){(text.Length > 0 ? ": " + text : "")}");
    }
}

/// <summary>POSIX shell quoting for commands shown and written into rollback.sh.</summary>
internal static class Shell
{
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':' or '=' or '@' or '+' or ',')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
