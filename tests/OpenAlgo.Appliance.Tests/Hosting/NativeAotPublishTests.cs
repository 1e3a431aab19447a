using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary>
/// The design card's promise, as a test: the native-AOT publish succeeds with zero trim/AOT
/// warnings from our own code (the project turns them into errors; third-party NetMQ/AsyncIO
/// report one collapsed IL2104/IL3053 each), and the binary runs.
/// </summary>
public sealed class NativeAotPublishTests
{
    [Fact]
    public void Publishes_native_aot_without_warnings_from_our_code_and_runs()
    {
        string root = FindRepositoryRoot();
        string output = Directory.CreateTempSubdirectory("oa-aot-").FullName;
        try
        {
            var (exit, log) = Run("dotnet", root, "publish", "src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj", "-c", "Release", "-r", "linux-x64", "-o", output, "-p:Version=0.0.0-test");
            Assert.True(exit == 0, log);
            var ours = Regex.Matches(log, @"warning (IL\d{4}|CS\d{4}|CA\d{4})[^\n]*").Select(m => m.Value)
                .Where(w => !w.Contains("Assembly 'NetMQ'") && !w.Contains("Assembly 'AsyncIO'"))
                .Distinct().ToList();
            Assert.True(ours.Count == 0, string.Join('\n', ours));

            string binary = Path.Combine(output, "openalgo-appliance");
            Assert.True(File.Exists(binary));
            var (versionExit, version) = Run(binary, output, "--version");
            Assert.Equal(0, versionExit);
            Assert.StartsWith("0.0.0-test", version.Trim());
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static (int Exit, string Output) Run(string file, string directory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpenAlgo.Appliance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
