using System.Diagnostics;
using System.Globalization;

namespace OpenAlgo.Appliance.Bench;

/// <summary>Options and helpers shared by all load scenarios.</summary>
public sealed class Common : IDisposable
{
    public required Uri Url { get; init; }

    public required string ApiKey { get; init; }

    public required string Exchange { get; init; }

    public required string SymbolPrefix { get; init; }

    public required string ZmqEndpoint { get; init; }

    public required int ConnectConcurrency { get; init; }

    public required TimeSpan ConnectTimeout { get; init; }

    public required string? JsonPath { get; init; }

    public required string? Label { get; init; }

    public required bool Verbose { get; init; }

    /// <summary>true: WebSocket.CreateFromStream over a read-buffered stream; false: ClientWebSocket.</summary>
    public required bool RawClient { get; init; }

    /// <summary>Offer permessage-deflate (the server compresses ticks for this client when it agrees).</summary>
    public bool Deflate { get; init; }

    public int? ServerPid { get; set; }

    /// <summary>--also-pid NAME=PID: further processes whose CPU and RSS are reported over the window (e.g. a relay's origin).</summary>
    public IReadOnlyList<(string Name, int Pid)> AlsoPids { get; init; } = [];

    /// <summary>--count-port NAME=PORT: ESTABLISHED connections accepted on PORT, counted at the end of the window.</summary>
    public IReadOnlyList<(string Name, int Port)> CountPorts { get; init; } = [];

    /// <summary>Parses repeatable NAME=NUMBER options.</summary>
    public static List<(string Name, int Value)> NamedInts(IEnumerable<string> values, string option)
    {
        var list = new List<(string, int)>();
        foreach (string v in values)
        {
            int eq = v.IndexOf('=');
            if (eq <= 0 || !int.TryParse(v.AsSpan(eq + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
                || !v[..eq].All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
            {
                throw new UsageException($"--{option} wants NAME=NUMBER (NAME of letters, digits, _), not '{v}'");
            }
            list.Add((v[..eq], n));
        }
        return list;
    }

    public ServerLauncher? Launcher { get; set; }

    /// <summary>
    /// --sites N: the server has N sites (<c>Appliance:Sites:site1..N</c>, <see cref="ServerLauncher.SitesEnvironment"/>),
    /// site k (from 0) with the internal listener on <see cref="Url"/>'s port + k, the bus on
    /// <see cref="ZmqEndpoint"/>'s port + k and the name site(k+1).bench.test on the HTTPS listener.
    /// </summary>
    public int Sites { get; init; } = 1;

    /// <summary>Where site <paramref name="site"/>'s clients connect: its internal listener (ws), or /ws by its name (wss, dialled at <see cref="Url"/>'s address).</summary>
    public Uri SiteUrl(int site)
    {
        if (Sites == 1) return Url;
        return Url.Scheme == "wss"
            ? new UriBuilder(Url) { Host = SiteName(site) }.Uri
            : new UriBuilder(Url) { Port = Url.Port + site }.Uri;
    }

    /// <summary>Site <paramref name="site"/>'s bus endpoint (the server binds it, the feeder connects).</summary>
    public string SiteZmqEndpoint(int site)
    {
        if (Sites == 1) return ZmqEndpoint;
        var endpoint = new Uri(ZmqEndpoint.Replace("tcp://", "http://", StringComparison.Ordinal));
        return $"tcp://{endpoint.Host}:{endpoint.Port + site}";
    }

    public static string SiteName(int site) => $"site{site + 1}.bench.test";

    /// <summary>The address to dial for <paramref name="uri"/>: a site's name is this machine (<see cref="Url"/>'s host).</summary>
    public string DialHost(Uri uri) => uri.Host.EndsWith(".bench.test", StringComparison.Ordinal) ? Url.Host : uri.Host;

    public string Transport => Url.Scheme == "wss" ? "wss" : "ws";

    public string SymbolName(int i) => SymbolPrefix + i.ToString(CultureInfo.InvariantCulture);

    public static void Log(string msg) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {msg}");

    /// <summary>Sleeps until the given Clock time (coarse: Task.Delay granularity, then a short yield loop).</summary>
    public static async Task SleepUntilAsync(long clockTicks, CancellationToken ct)
    {
        while (true)
        {
            long remaining = clockTicks - Clock.Now;
            if (remaining <= 0)
            {
                return;
            }
            double ms = Clock.ToSeconds(remaining) * 1000;
            if (ms > 2)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(ms - 1), ct).ConfigureAwait(false);
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>
    /// Connects <paramref name="count"/> clients with bounded parallelism; each is authenticated, then
    /// <paramref name="afterAuth"/> runs (subscribe), then its receive loop starts. Failed clients are aborted.
    /// </summary>
    public async Task<ConnectOutcome> ConnectAllAsync(ClientFactory factory, int count, Func<int, BenchClient> create, Func<BenchClient, CancellationToken, Task> afterAuth, CancellationToken outer, bool startReceiveLoop = true, Func<int, Uri>? urlOf = null)
    {
        var ok = new BenchClient?[count];
        int failed = 0;
        int done = 0;
        string? firstError = null;
        var sw = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        cts.CancelAfter(ConnectTimeout);
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, ConnectConcurrency), CancellationToken = CancellationToken.None };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (i, _) =>
        {
            if (cts.IsCancellationRequested)
            {
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstError, "connect phase timed out", null);
                return;
            }
            var client = create(i);
            try
            {
                var url = urlOf?.Invoke(i) ?? Url;
                await factory.ConnectAsync(client, url, DialHost(url), cts.Token).ConfigureAwait(false);
                await client.AuthenticateAsync(ApiKey, cts.Token).ConfigureAwait(false);
                await afterAuth(client, cts.Token).ConfigureAwait(false);
                if (startReceiveLoop)
                {
                    client.StartReceiveLoop();
                }
                ok[i] = client;
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref failed);
                string err = e is OperationCanceledException ? "connect phase timed out" : Describe(e);
                if (Interlocked.CompareExchange(ref firstError, $"client {i}: {err}", null) is null)
                {
                    Log($"first connection failure: client {i}: {err}");
                }
                client.Abort();
            }
            int d = Interlocked.Increment(ref done);
            if (d % 1000 == 0 || (Verbose && d % 100 == 0))
            {
                Log($"  {d}/{count} connections set up ({Volatile.Read(ref failed)} failed, {sw.Elapsed.TotalSeconds:0.0}s)");
            }
        }).ConfigureAwait(false);
        return new ConnectOutcome(ok.Where(c => c is not null).Select(c => c!).ToList(), failed, firstError, sw.Elapsed.TotalSeconds);
    }

    public static string Describe(Exception e)
    {
        string s = e.GetType().Name + ": " + e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            s += " <- " + inner.GetType().Name + ": " + inner.Message;
        }
        return s;
    }

    public static async Task CloseAllAsync(IReadOnlyList<BenchClient> clients, TimeSpan timeoutEach, TimeSpan overall)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = 256 };
        var close = Parallel.ForEachAsync(clients, options, async (c, _) => await c.CloseAsync(timeoutEach).ConfigureAwait(false));
        if (await Task.WhenAny(close, Task.Delay(overall)).ConfigureAwait(false) != close)
        {
            Log("closing clients took too long; aborting the rest");
            foreach (var c in clients)
            {
                c.Abort();
            }
        }
    }

    /// <summary>Starts the server if asked to, and waits for the ports this scenario needs.</summary>
    public async Task<bool> EnsureServerAsync(bool needZmq)
    {
        if (Launcher is not null)
        {
            ServerPid = Launcher.Pid;
        }
        if (ServerPid is int pid && !ProcStats.IsAlive(pid))
        {
            Log($"server pid {pid} is not running");
            return false;
        }
        for (int site = 0; site < Sites; site++)
        {
            var url = SiteUrl(site);
            if (!await ServerLauncher.WaitForPortAsync(DialHost(url), url.Port, TimeSpan.FromSeconds(60), ServerPid).ConfigureAwait(false))
            {
                Log($"server is not accepting connections on {DialHost(url)}:{url.Port}");
                if (Launcher is not null)
                {
                    Log("server log tail:\n" + Launcher.TailLog(30));
                }
                return false;
            }
            if (needZmq)
            {
                var zmq = new Uri(SiteZmqEndpoint(site).Replace("tcp://", "http://", StringComparison.Ordinal));
                if (!await ServerLauncher.WaitForPortAsync(zmq.Host, zmq.Port, TimeSpan.FromSeconds(10), ServerPid).ConfigureAwait(false))
                {
                    Log($"nothing listens on the ZMQ endpoint {SiteZmqEndpoint(site)} (the server's SUB socket should bind it)");
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>Server memory figures right now (empty when the server PID is unknown).</summary>
    public List<Metric> ServerMemory(string prefix = "server")
    {
        var r = new RunResult("", "");
        if (ServerPid is int pid)
        {
            r.Add($"{prefix}_rss_mb", ProcStats.StatusValue(pid, "VmRSS") / 1024.0, "server RSS MB", "0.0");
            r.Add($"{prefix}_rss_peak_mb", ProcStats.StatusValue(pid, "VmHWM") / 1024.0, "server peak RSS MB", "0.0", inTable: false);
            r.Add($"{prefix}_threads", ProcStats.StatusValue(pid, "Threads"), "server threads", "0", inTable: false);
            r.Add($"{prefix}_fds", ProcStats.OpenFds(pid), "server fds", "0", inTable: false);
        }
        return r.Metrics;
    }

    public void Finish(RunResult r)
    {
        r.Print(Console.Out);
        if (JsonPath is not null)
        {
            r.AppendJsonLine(JsonPath);
        }
    }

    public void Dispose()
    {
        Launcher?.Dispose();
    }
}

public sealed record ConnectOutcome(List<BenchClient> Clients, int Failed, string? FirstError, double Seconds);
