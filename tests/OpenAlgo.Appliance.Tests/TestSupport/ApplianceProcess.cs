using System.Diagnostics;
using System.Text;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>The real executable (the same build the test references) run as a child process, stopped by PID.</summary>
internal sealed class ApplianceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ApplianceProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public int Pid => _process.Id;

    public static ApplianceProcess Start(string workingDirectory, IDictionary<string, string> environment, params string[] args)
        => StartUnder([], workingDirectory, environment, args);

    /// <summary>
    /// Like <see cref="Start"/>, with a wrapper command in front (for example <c>unshare -m …</c>
    /// ending in <c>exec "$@"</c>): the executable's own arguments stay exactly as a user types them.
    /// </summary>
    public static ApplianceProcess StartUnder(string[] wrapper, string workingDirectory, IDictionary<string, string> environment, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "openalgo-appliance.dll");
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var part in wrapper.Skip(1)) start.ArgumentList.Add(part);
        if (wrapper.Length > 0) start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Appliance__", StringComparison.Ordinal) || k is "WEBSOCKET_PORT" or "ZMQ_PORT").ToList())
        {
            start.Environment.Remove(key);
        }
        // The admin listener's default port (9765) would collide between tests running at once: off unless a test asks.
        start.Environment["Appliance__Listen__Admin"] = "";
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return new ApplianceProcess(Process.Start(start)!);
    }

    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var line = Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null) return line.TrimEnd('\r');
            if (_process.HasExited) break;
            await Task.Delay(50);
        }
        throw new TimeoutException($"no line '{prefix}'. stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no flush, as a crash or the OOM killer.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGHUP, as <c>systemctl reload</c> sends it.</summary>
    public void Hangup() => Process.Start("kill", ["-HUP", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>SIGTERM, as systemd stops a service.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
