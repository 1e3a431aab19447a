using System.Diagnostics;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>Runs a command to completion and returns its exit code with stdout and stderr together.</summary>
internal static class Processes
{
    public static (int Exit, string Output) Run(string file, string? directory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (directory is not null) start.WorkingDirectory = directory;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Only a hang guard: a native-AOT publish took 10 min on the shared 2-core machine under load (1.5 min quiet).
        if (!process.WaitForExit(TimeSpan.FromMinutes(20))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>The checkout this test build came from (the folder holding OpenAlgo.Appliance.sln).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpenAlgo.Appliance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
