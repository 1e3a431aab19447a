using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Fuzzing;

namespace OpenAlgo.Appliance.Bench;

public sealed record FuzzOptions(
    long Frames,
    int Workers,
    int Seed,
    int QuietSymbols,
    double Rate,
    double PhaseSeconds,
    double MaxFuzzSeconds,
    double InvalidKeyShare,
    int HttpConcurrency,
    string HttpsListen,
    string InternalListen,
    int BatchMilliseconds,
    TimeSpan ProbeTimeout);

/// <summary>
/// The long form of the CI fuzz tests (tests/…/Reliability): the seeded frame fuzzer
/// (<see cref="FuzzRun"/>) and the HTTP request mutator (<see cref="HttpEdge"/>) thrown at a
/// running server's <c>/ws</c> over TLS and its internal listener, while one well-behaved client
/// receives ticks from the bus. Three phases: <c>quiet</c> (ticks only: the reference),
/// <c>fuzz</c> (until <c>--frames</c> frames were sent or <c>--fuzz-seconds</c> passed; the HTTP
/// mutations run alongside, <c>--http-concurrency</c> at a time), <c>after</c> (ticks only again).
/// Reported: frames, cases, connections, failures (any answer that is not a spec answer, or a
/// close with the wrong code), HTTP statuses (any 5xx or hang is a failure), the quiet client's
/// tick latency per phase and its loss, the server's CPU and RSS, whether it is still alive, and
/// the ERR/FTL lines and exception stack traces in its log (all must be 0).
/// </summary>
public static partial class FuzzScenario
{
    private static readonly string[] PhaseNames = ["quiet", "fuzz", "after"];

    public static async Task<RunResult> RunAsync(Common c, FuzzOptions o, CancellationToken ct)
    {
        string label = c.Label ?? $"fuzz {o.Frames:N0} frames, {o.Workers} workers, seed {o.Seed}";
        var result = new RunResult("fuzz", label);
        if (o.Frames < 1 || o.Workers < 1 || o.QuietSymbols < 1 || o.Rate <= 0 || o.PhaseSeconds <= 0)
        {
            throw new UsageException("need --frames >= 1, --workers >= 1, --symbols >= 1, --rate > 0, --phase > 0");
        }
        if (!await c.EnsureServerAsync(needZmq: true).ConfigureAwait(false))
        {
            result.Ok = false;
            result.Notes.Add("server not reachable (see log above)");
            return result;
        }
        var https = new Uri("tcp://" + o.HttpsListen);
        var @internal = new Uri("tcp://" + o.InternalListen);

        var phases = new PhaseClock(PhaseNames.Length);
        using var factory = new ClientFactory(c.RawClient, 65536);
        var quietSymbols = Enumerable.Range(0, o.QuietSymbols).ToArray();
        var quietOutcome = await c.ConnectAllAsync(
            factory,
            1,
            i => new BenchClient(i, 65536, histogram: null) { Phases = phases },
            async (client, token) =>
            {
                await client.SubscribeAsync(quietSymbols.Select(c.SymbolName).ToList(), c.Exchange, 1, 5, 250, token).ConfigureAwait(false);
                client.Symbols = quietSymbols;
            },
            ct).ConfigureAwait(false);
        if (quietOutcome.Clients.Count != 1)
        {
            result.Ok = false;
            result.Notes.Add($"quiet client failed: {quietOutcome.FirstError}");
            return result;
        }
        var quiet = quietOutcome.Clients[0];

        var subscribers = new int[o.QuietSymbols];
        Array.Fill(subscribers, 1);
        var feeder = new Feeder(c.ZmqEndpoint, c.Exchange, c.SymbolPrefix, o.QuietSymbols, 1, 5, subscribers, o.Rate);
        using var feederCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The window is open-ended (the fuzz phase lasts as long as it takes); the feeder stops when cancelled.
        var feederThread = new Thread(() => feeder.Run(0, 100_000, o.BatchMilliseconds, () => Volatile.Read(ref quiet.Received), o.ProbeTimeout, feederCts.Token))
        {
            Name = "bench-feeder",
            IsBackground = true,
        };
        feederThread.Start();
        if (!await feeder.Probed.Task.WaitAsync(o.ProbeTimeout + TimeSpan.FromSeconds(10), ct).ConfigureAwait(false))
        {
            await feederCts.CancelAsync().ConfigureAwait(false);
            result.Ok = false;
            result.Notes.Add(feeder.Failure is not null ? $"feeder failed: {Common.Describe(feeder.Failure)}" : "no tick reached the quiet client");
            await Common.CloseAllAsync([quiet], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            return result;
        }

        var cpu = new ProcStats.CpuSample[PhaseNames.Length + 1];
        var rss = new double?[PhaseNames.Length];
        double? RssNow() => c.ServerPid is int pid ? ProcStats.StatusValue(pid, "VmRSS") / 1024.0 : null;

        // quiet
        long t0 = Clock.Now;
        phases.Mark(0, t0);
        cpu[0] = ProcStats.CpuSample.Take(c.ServerPid);
        Common.Log($"phase quiet ({o.PhaseSeconds:0.#} s)");
        await Common.SleepUntilAsync(t0 + Clock.FromSeconds(o.PhaseSeconds), ct).ConfigureAwait(false);
        rss[0] = RssNow();

        // fuzz
        long t1 = Clock.Now;
        phases.Mark(1, t1);
        cpu[1] = ProcStats.CpuSample.Take(c.ServerPid);
        Common.Log($"phase fuzz: {o.Frames:N0} frames on {o.HttpsListen} (/ws, TLS) and {o.InternalListen}, {o.Workers} workers, seed {o.Seed} (replay with --seed); HTTP mutations {o.HttpConcurrency} at a time");
        // The fuzzer runs in a process of its own (as an attacker would be another machine): its CPU
        // work then delays the quiet client only as much as the kernel's fair share says, not by
        // queueing ahead of the quiet client's reads on this process's threads.
        var fuzzer = FuzzLoad.Start(c.ApiKey, o);
        using var progress = new Timer(_ => Common.Log($"fuzz: quiet client {Volatile.Read(ref quiet.InWindow):N0} ticks; server RSS {RssNow():0} MB"),
            null, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60));
        var outcome = await fuzzer.WaitAsync(TimeSpan.FromSeconds(o.MaxFuzzSeconds + 120), ct).ConfigureAwait(false);
        rss[1] = RssNow();

        // after
        long t2 = Clock.Now;
        phases.Mark(2, t2);
        cpu[2] = ProcStats.CpuSample.Take(c.ServerPid);
        Common.Log($"phase after ({o.PhaseSeconds:0.#} s)");
        await Common.SleepUntilAsync(t2 + Clock.FromSeconds(o.PhaseSeconds), ct).ConfigureAwait(false);
        long t3 = Clock.Now;
        phases.Mark(3, t3);
        cpu[3] = ProcStats.CpuSample.Take(c.ServerPid);
        rss[2] = RssNow();
        var memory = c.ServerMemory();
        double? load = ProcStats.LoadAverage1();

        await feederCts.CancelAsync().ConfigureAwait(false);
        await feeder.Finished.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        long expected = feeder.ExpectedInWindow;
        for (int i = 0; i < 100 && Volatile.Read(ref quiet.InWindow) < expected; i++)
        {
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        long delivered = Volatile.Read(ref quiet.InWindow);

        double fuzzSeconds = Clock.ToSeconds(t2 - t1);
        result.Add("frames", outcome.Frames, "frames", "0");
        result.Add("frames_per_s", outcome.Frames / fuzzSeconds, "frames/s", "0", inTable: false);
        result.Add("cases", outcome.Cases, "cases", "0", inTable: false);
        result.Add("connections", outcome.Connections, "connections", "0", inTable: false);
        result.Add("fuzz_failures", outcome.Failures, "failures", "0");
        result.Add("fuzz_seconds", fuzzSeconds, "fuzz s", "0");
        result.Add("fuzzer_cpu_s", outcome.CpuSeconds, "fuzzer CPU s", "0", inTable: false);
        result.Add("http_requests", outcome.HttpRequests, "HTTP requests", "0");
        result.Add("http_failures", outcome.HttpFailures, "HTTP failures", "0");
        result.Add("quiet_ticks_sent", expected, "ticks sent", "0", inTable: false);
        result.Add("quiet_loss", expected - delivered, "ticks lost", "0");
        for (int p = 0; p < PhaseNames.Length; p++)
        {
            string n = PhaseNames[p];
            var h = phases.Histograms[p];
            result.Add($"{n}_ticks", h.TotalCount, $"{n} ticks", "0", inTable: false);
            result.Add($"{n}_p50_ms", h.Percentile(50) / 1000.0, $"{n} p50 ms", "0.###", inTable: false);
            result.Add($"{n}_p99_ms", h.Percentile(99) / 1000.0, $"{n} p99 ms", "0.###");
            result.Add($"{n}_max_ms", h.Max / 1000.0, $"{n} max ms", "0.###", inTable: false);
            double wall = Clock.ToSeconds(cpu[p + 1].Timestamp - cpu[p].Timestamp);
            if (cpu[p].ServerCpu is double c0 && cpu[p + 1].ServerCpu is double c1)
            {
                result.Add($"{n}_server_cpu_pct", 100 * (c1 - c0) / wall, $"{n} CPU %", "0.0", inTable: p == 1);
            }
            result.Add($"{n}_rss_mb", rss[p], $"RSS end of {n} MB", "0.0", inTable: p == 2);
        }
        double quietP99 = phases.Histograms[0].Percentile(99);
        if (quietP99 > 0)
        {
            result.Add("fuzz_p99_ratio", phases.Histograms[1].Percentile(99) / quietP99, "fuzz/quiet p99", "0.00");
        }
        foreach (var m in memory.Where(m => m.Key is "server_rss_peak_mb"))
        {
            result.Metrics.Add(m with { InTable = true });
        }
        result.Add("loadavg_1m", load, "load avg 1m", "0.00");

        result.Notes.Add(outcome.Summary.TrimEnd().Replace("\n", "\n  ", StringComparison.Ordinal));
        result.Notes.Add($"HTTP statuses: {outcome.HttpStatuses}");
        foreach (string sample in outcome.HttpSamples)
        {
            result.Notes.Add($"HTTP FAIL {sample}");
        }
        if (outcome.Error is not null)
        {
            result.Ok = false;
            result.Notes.Add($"fuzzer process: {outcome.Error}");
        }
        if (c.Launcher is { } launcher)
        {
            var (errors, traces, warnings) = ScanLog(launcher.LogFile);
            result.Add("log_errors", errors.Count, "log ERR/FTL", "0");
            result.Add("log_stack_traces", traces, "log stack traces", "0");
            result.Notes.Add($"server log warnings by kind: {(warnings.Count == 0 ? "none" : string.Join("; ", warnings.OrderByDescending(w => w.Value).Select(w => $"{w.Value}× {w.Key}")))}");
            foreach (string line in errors.Take(10))
            {
                result.Notes.Add($"LOG {line}");
            }
            if (errors.Count > 0 || traces > 0)
            {
                result.Ok = false;
            }
        }
        else
        {
            result.Notes.Add("server log not scanned (start the server with --server-binary to have it scanned)");
        }
        if (outcome.Failures > 0 || outcome.HttpFailures > 0 || outcome.Frames < o.Frames || expected != delivered)
        {
            result.Ok = false;
        }
        if (quiet.LoopEnded)
        {
            result.Ok = false;
            result.Notes.Add($"the quiet client was disconnected: close={quiet.CloseStatus ?? "-"} error={quiet.Error ?? "-"}");
        }
        if (quiet.FirstOther is not null)
        {
            result.Notes.Add($"the quiet client got a non-tick frame: {BenchClient.Truncate(quiet.FirstOther, 300)}");
        }
        await Common.CloseAllAsync([quiet], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Mutated WebSocket handshakes (and plain requests) on new connections, alternating the TLS
    /// listener's <c>/ws</c> and the internal listener, until cancelled. A 5xx, an answer that is
    /// neither 101 nor 4xx/505, or a connection neither answered nor cut within 60 s is a failure.
    /// </summary>
    internal static async Task HttpMutationsAsync(int httpsPort, int internalPort, int seed, int concurrency, HttpTally tally, CancellationToken ct)
    {
        if (concurrency <= 0)
        {
            return;
        }
        const string Handshake = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + 10_000 + w);
            while (!ct.IsCancellationRequested)
            {
                bool tls = random.Next(2) == 0;
                int port = tls ? httpsPort : internalPort;
                string request = HttpEdge.Mutate(random, $"GET {(tls ? "/ws" : "/")} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{Handshake}\r\n");
                int status;
                try
                {
                    (status, _) = await HttpEdge.ExchangeAsync(() => tls ? ConnectTlsAsync(port) : ConnectPlainAsync(port), request, Encoding.Latin1, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
                {
                    tally.Add(-2, $"connect: {e.GetType().Name}: {e.Message}");
                    continue;
                }
                bool fine = status is 0 or 101 or 505 || status is >= 400 and < 500;
                tally.Add(status, fine ? null : $"{status} for {request.Replace("\r\n", "⏎", StringComparison.Ordinal)}");
            }
        }, CancellationToken.None))).ConfigureAwait(false);
    }

    private static async Task<Stream> ConnectTlsAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port).ConfigureAwait(false);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cts.Token).ConfigureAwait(false);
        return tls;
    }

    private static async Task<Stream> ConnectPlainAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port).ConfigureAwait(false);
        return tcp.GetStream();
    }

    /// <summary>ERR/FTL lines, exception stack-trace lines, and warnings grouped by their text with numbers and addresses blanked.</summary>
    internal static (List<string> Errors, int StackTraces, Dictionary<string, int> Warnings) ScanLog(string file)
    {
        var errors = new List<string>();
        var warnings = new Dictionary<string, int>();
        int traces = 0;
        if (!File.Exists(file))
        {
            return (errors, traces, warnings);
        }
        using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is { } line)
        {
            var m = LogLine().Match(line);
            if (m.Success)
            {
                string level = m.Groups[1].Value;
                if (level is "ERR" or "FTL")
                {
                    errors.Add(line);
                }
                else if (level == "WRN")
                {
                    string kind = Numbers().Replace(m.Groups[2].Value, "#");
                    kind = kind.Length > 90 ? kind[..90] + "…" : kind;
                    warnings[kind] = warnings.GetValueOrDefault(kind) + 1;
                }
            }
            else if (line.StartsWith("   at ", StringComparison.Ordinal) || line.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase))
            {
                traces++;
            }
        }
        return (errors, traces, warnings);
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d (VRB|DBG|INF|WRN|ERR|FTL) (.*)$")]
    private static partial Regex LogLine();

    [GeneratedRegex(@"\d+(\.\d+)*")]
    private static partial Regex Numbers();

    internal sealed class HttpTally
    {
        private readonly Lock _gate = new();
        private readonly SortedDictionary<int, long> _statuses = [];
        private long _requests;
        private long _failures;

        public List<string> Samples { get; } = [];

        public long Requests => Interlocked.Read(ref _requests);

        public long Failures => Interlocked.Read(ref _failures);

        public void Add(int status, string? failure)
        {
            Interlocked.Increment(ref _requests);
            lock (_gate)
            {
                _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
                if (failure is not null)
                {
                    Interlocked.Increment(ref _failures);
                    if (Samples.Count < 10)
                    {
                        Samples.Add(failure);
                    }
                }
            }
        }

        public string Describe()
        {
            lock (_gate)
            {
                return string.Join(", ", _statuses.Select(kv => $"{Name(kv.Key)} ×{kv.Value.ToString("N0", CultureInfo.InvariantCulture)}"));
            }
        }

        private static string Name(int status) => status switch
        {
            -2 => "connect failed",
            -1 => "no answer in 60 s",
            0 => "cut without an answer",
            _ => status.ToString(CultureInfo.InvariantCulture),
        };
    }
}
