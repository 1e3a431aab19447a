using System.Diagnostics;
using System.Net.Sockets;

namespace OpenAlgo.Appliance.Bench;

/// <summary>
/// Starts the appliance binary with the benchmark environment (same variables as bench/run.sh),
/// under "ulimit -n 65536" (or the hard limit if that is lower), and stops it by PID.
/// </summary>
public sealed class ServerLauncher : IDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    private readonly Process _process;

    public int Pid { get; }

    public string LogFile { get; }

    private ServerLauncher(Process process, string logFile)
    {
        _process = process;
        Pid = process.Id;
        LogFile = logFile;
    }

    public static Dictionary<string, string> BenchEnvironment(string apiKey, string httpsListen, string internalListen, string zmqEndpoint, string stateDir, string logsDir) => new()
    {
        ["Appliance__Listen__Https"] = httpsListen,
        ["Appliance__Listen__Http"] = "",
        ["Appliance__Listen__Internal"] = internalListen,
        // No admin listener: the default 127.0.0.1:9765 is held by an installed appliance or a test
        // running alongside (a bench server once took it from the README's demo test). To scrape
        // this server: --server-env Appliance__Listen__Admin=127.0.0.1:PORT.
        ["Appliance__Listen__Admin"] = "",
        ["Appliance__Tls__Mode"] = "SelfSigned",
        ["Appliance__MarketData__Source"] = "Zmq",
        ["Appliance__MarketData__ZmqEndpoint"] = zmqEndpoint,
        ["Appliance__Auth__Mode"] = "StaticKeys",
        ["Appliance__Auth__StaticKeys__0__Key"] = apiKey,
        ["Appliance__Auth__StaticKeys__0__UserId"] = "bench",
        ["Appliance__Auth__StaticKeys__0__Broker"] = "benchbroker",
        ["Appliance__Limits__MaxClientsPerUser"] = "20000",
        ["Appliance__Limits__MaxClients"] = "20000",
        ["Appliance__StateDirectory"] = stateDir,
        ["Appliance__LogsDirectory"] = logsDir,
    };

    /// <summary>
    /// <c>--sites K</c>: sites site1..siteK, each with its name (site&lt;k&gt;.bench.test), its internal
    /// listener (<paramref name="internalPort"/> + k − 1) and its bus; everything else (source, keys,
    /// limits, TLS mode) inherited from the top-level keys of <see cref="BenchEnvironment"/>.
    /// </summary>
    public static Dictionary<string, string> SitesEnvironment(int sites, string internalHost, int internalPort, Func<int, string> zmqEndpoint)
    {
        var env = new Dictionary<string, string>();
        for (int site = 0; site < sites; site++)
        {
            string prefix = $"Appliance__Sites__site{site + 1}__";
            env[prefix + "Tls__Domains__0"] = Common.SiteName(site);
            env[prefix + "Listen__Internal"] = $"{internalHost}:{internalPort + site}";
            env[prefix + "MarketData__ZmqEndpoint"] = zmqEndpoint(site);
        }
        return env;
    }

    public static ServerLauncher Start(string binary, IReadOnlyDictionary<string, string> env, IEnumerable<string> extraEnv, string logFile)
    {
        if (!File.Exists(binary))
        {
            throw new UsageException($"server binary not found: {binary}");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true, // gives the server a private stdin; closed below
        };
        // exec keeps the PID, so the PID we get is the server's own.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" run >>\"$1\" 2>&1");
        psi.ArgumentList.Add(Path.GetFullPath(binary));
        psi.ArgumentList.Add(Path.GetFullPath(logFile));
        // The harness runs its own socket completions inline (Program.cs); the server must not inherit
        // that: it changes which threads the server's reads run on. --server-env can still set it.
        psi.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS");
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }
        foreach (string kv in extraEnv)
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0)
            {
                throw new UsageException($"--server-env expects KEY=VALUE, got '{kv}'");
            }
            psi.Environment[kv[..eq]] = kv[(eq + 1)..];
        }
        foreach (string dirKey in new[] { "Appliance__StateDirectory", "Appliance__LogsDirectory" })
        {
            if (psi.Environment.TryGetValue(dirKey, out string? dir) && !string.IsNullOrEmpty(dir))
            {
                Directory.CreateDirectory(dir);
            }
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException("failed to start server");
        p.StandardInput.Close();
        return new ServerLauncher(p, logFile);
    }

    /// <summary>Polls a TCP port until it accepts a connection, the server dies, or the timeout passes.</summary>
    public static async Task<bool> WaitForPortAsync(string host, int port, TimeSpan timeout, int? pid)
    {
        var sw = Stopwatch.StartNew();
        do
        {
            if (pid is int p && !ProcStats.IsAlive(p))
            {
                return false;
            }
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await s.ConnectAsync(host, port, cts.Token);
                return true;
            }
            catch (Exception)
            {
                if (sw.Elapsed < timeout)
                {
                    await Task.Delay(100);
                }
            }
        }
        while (sw.Elapsed < timeout);
        return false;
    }

    public bool HasExited => _process.HasExited;

    public void Stop(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }
        ProcStats.SendSignal(Pid, SigTerm);
        if (!_process.WaitForExit(grace))
        {
            Console.Error.WriteLine($"[bench] server {Pid} did not exit {grace.TotalSeconds:0}s after SIGTERM; sending SIGKILL");
            ProcStats.SendSignal(Pid, SigKill);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }
    }

    public string TailLog(int lines)
    {
        try
        {
            var all = File.ReadAllLines(LogFile);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (Exception e)
        {
            return $"(cannot read {LogFile}: {e.Message})";
        }
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }
}
