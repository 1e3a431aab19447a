using System.Diagnostics;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>Runs Debian's /usr/bin/python3 (the interpreter with Debian's python3-* packages).</summary>
internal static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    public static string Run(string script, string? stdin = null, int timeoutSeconds = 30)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        // Drain the output before feeding the input: a full stdout pipe would otherwise block both sides.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("python timed out");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"python failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}
