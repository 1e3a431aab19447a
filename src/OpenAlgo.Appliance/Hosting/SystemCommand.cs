using System.Diagnostics;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>Runs a system tool (systemctl, chown, …) to completion; a failure is reported on <c>error</c> with the command line.</summary>
internal static class SystemCommand
{
    public static int Run(TextWriter error, string file, params string[] args)
    {
        var start = new ProcessStartInfo(file);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        if (process.ExitCode != 0) error.WriteLine($"{file} {string.Join(' ', args)}: exit {process.ExitCode}");
        return process.ExitCode;
    }
}
