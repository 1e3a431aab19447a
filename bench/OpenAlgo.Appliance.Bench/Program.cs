using OpenAlgo.Appliance.Bench;

const string Usage = """
usage: openalgo-bench <scenario> [options]

scenarios:
  throughput   N clients x S symbols (of U), R ticks/s total over ZMQ; latency, loss, CPU, RSS
  fanout       throughput with fan-out defaults: 1000 clients x 20 symbols (of 1000), 1000 ticks/s
  idle         C authenticated idle connections; server RSS with 0 and C clients
  hostile      one quiet client's tick latency while K clients send huge subscribes and objects
  fuzz         generated hostile frames and HTTP requests at /ws (TLS) and the internal listener while
               one quiet client gets ticks: failures, the server's log, the quiet client's latency
               (the fuzzer runs as a child process, "fuzz-load", with the same options)
  storm        connect storm: new clients (connect, TLS on wss, upgrade, authenticate, hang up) at a rate
               that grows step by step until attempts fail: connections/s until errors, while
               --hold-clients connected clients must stay answered
  summarize    FILE.jsonl...  median-of-runs markdown tables from --json output
  selftest     checks the histogram and the bench_ts scanner (no network)

common options:
  --url URL                 ws://127.0.0.1:18765/ (internal) or wss://127.0.0.1:18443/ws  [ws://127.0.0.1:18765/]
  --api-key KEY             [benchkey]
  --exchange EXCH           [NSE]
  --symbol-prefix P         symbols are P0..P(U-1)  [SYM]
  --zmq ENDPOINT            server SUB endpoint the feeder connects to  [tcp://127.0.0.1:15555]
  --server-pid PID          measure this server process (/proc/PID)
  --also-pid NAME=PID       throughput/fanout: also report CPU %, CPU µs per delivered msg and RSS of
                            this process as NAME_* (repeatable; e.g. the origin behind a relaying server;
                            one NAME given several times is summed, e.g. nginx's workers), and the
                            stack's (server + all of them) CPU µs per delivered msg
  --count-port NAME=PORT    throughput/fanout: ESTABLISHED connections accepted on local PORT at the end
                            of the window, as NAME_conns (repeatable; e.g. the origin's listener)
  --server-binary PATH      start the server with the bench environment (and stop it at the end)
  --server-env KEY=VALUE    extra environment for --server-binary (repeatable)
  --https-listen ADDR       [127.0.0.1:18443]     --internal-listen ADDR   [127.0.0.1:18765]
  --server-log FILE         server stdout/stderr for --server-binary  [/tmp/bench-logs/server-stdout.log]
  --sites K                 throughput/fanout: the server has K sites (Appliance:Sites:site1..K; --server-binary
                            configures them): site k's internal listener is --url's port + k-1 (ws) or /ws by
                            the name site<k>.bench.test (wss, dialled at --url's address), its bus --zmq's
                            port + k-1; clients, symbols and rate are split evenly over the sites  [1]
  --client raw|clientws     raw: WebSocket.CreateFromStream over a read-buffered socket (one recv per
                            burst; default); clientws: System.Net.WebSockets.ClientWebSocket  [raw]
  --deflate                 offer permessage-deflate (RFC 7692) like a browser; reports wire bytes per msg
  --connect-concurrency N   parallel connection setups  [64]
  --connect-timeout SEC     bound for the whole connect phase  [180]
  --max-seconds SEC         hard watchdog for the whole process  [600]
  --json FILE               append the result as one JSON line
  --label TEXT              row label in summaries
  --verbose

throughput / fanout options (fanout defaults in brackets after the slash):
  --clients N [3 / 1000]   --symbols S [1000 / 20]   --universe U [1000 / 1000]   --rate R [20000 / 1000]
  --duration SEC [20]      --warmup SEC [5]          --drain SEC [5]
  --mode 1|2|3 [1]         --depth N [5]             --subscribe-batch N [250]
  --batch-ms N [1]          feeder sleep between batches (each batch sends every tick due so far)
  --recv-buffer BYTES [65536] (per-message buffer)   --read-buffer BYTES [65536] (raw client socket buffer)
  --probe-timeout SEC [15]
  --sample-seconds SEC [5]  progress: rates, server CPU and RSS, clients open, logged every SEC
  --samples FILE            also write those samples as TSV to FILE (long holds: RSS and CPU over time)
  --slow-clients K [0]      K more clients, each with fast client k's symbols, pausing --slow-pause-ms [20]
                            after every frame they read: the server must conflate for them. Loss, latency
                            and expected counts stay the fast clients'; the slow ones report the share they got

hostile options:
  --clients K [4] hostile clients   --symbols Q [50] quiet client's symbols (all ticked)   --rate R [1000]
  --phase SEC [15] length of each phase: baseline, subscribes, objects, after   --warmup SEC [3]
  --hostile-symbols N [10000] symbols per hostile subscribe/unsubscribe   --hostile-keys N [40000] keys per hostile object

fuzz options:
  --frames N [1000000] frames to send   --workers W [8] fuzzing connections at a time   --seed S [1]
  --symbols Q [50] quiet client's symbols   --rate R [500] ticks/s   --phase SEC [60] quiet and after phases
  --fuzz-seconds SEC [3600] longest fuzz phase   --invalid-key-share X [0.002] wrong keys among authenticates
  --http-concurrency N [16] mutated HTTP requests at a time during the fuzz phase (0: none)
  (targets: --https-listen's /ws over TLS and --internal-listen)

storm options:
  --start-rate R [100] connections/s of the first step   --factor F [1.5] next step's rate = R x F
  --step-seconds SEC [5]   --max-rate R [50000]   --attempt-timeout SEC [5] an attempt not authenticated by then fails
  --error-share X [0.01] stop after a step with more failed attempts than this share
  --max-in-flight N [4000] stop when more attempts than this are pending (the server no longer keeps up)
  --source-addresses N [8] bind clients to 127.0.0.1 ... 127.0.0.N in turn (ephemeral ports per address)
  --hold-clients N [100] clients connected before the storm that must answer a ping after every step

idle options:
  --clients C [10000]  --symbols S [0] (subscribe S symbols each, no ticks sent)  --universe U [1000]
  --settle SEC [3]     --hold SEC [10]     --recv-buffer BYTES [4096]    --read-buffer BYTES [4096]
""";

// Run socket continuations inline on the epoll thread instead of hopping to the thread pool: the
// per-message work here is a few hundred nanoseconds, and the hop roughly doubled the clients'
// CPU per message in the fan-out scenario. Must happen before the first socket is created.
// Opt out with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

var valueOptions = new HashSet<string>(StringComparer.Ordinal)
{
    "url", "api-key", "exchange", "symbol-prefix", "zmq", "server-pid", "server-binary", "server-env", "also-pid", "count-port",
    "https-listen", "internal-listen", "server-log", "connect-concurrency", "connect-timeout", "max-seconds",
    "json", "label", "clients", "symbols", "universe", "rate", "duration", "warmup", "drain", "mode", "depth",
    "subscribe-batch", "recv-buffer", "read-buffer", "client", "batch-ms", "probe-timeout", "settle", "hold", "state-dir", "logs-dir",
    "phase", "hostile-symbols", "hostile-keys", "sites", "sample-seconds", "samples", "slow-clients", "slow-pause-ms",
    "frames", "workers", "seed", "fuzz-seconds", "invalid-key-share", "http-concurrency",
    "start-rate", "factor", "step-seconds", "max-rate", "source-addresses", "attempt-timeout", "max-in-flight", "error-share", "hold-clients",
};
var flagOptions = new HashSet<string>(StringComparer.Ordinal) { "verbose", "help", "deflate" };

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

string scenario = args[0];
Args a;
try
{
    a = Args.Parse(args[1..], valueOptions, flagOptions);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{Usage}");
    return 2;
}
if (a.Flag("help"))
{
    Console.WriteLine(Usage);
    return 0;
}

if (scenario == "summarize")
{
    var results = new List<RunResult>();
    foreach (string file in a.Positional)
    {
        results.AddRange(RunResult.ReadJsonLines(file));
    }
    Console.Write(Summary.Markdown(results));
    return results.Count > 0 ? 0 : 1;
}
if (scenario == "selftest")
{
    return SelfTest.Run();
}
if (scenario == "fuzz-load")
{
    // fuzz's own child process: the fuzzer alone (see FuzzLoad).
    return await FuzzLoad.RunAsync(a.String("api-key", "benchkey"), FuzzOptionsFrom(a), CancellationToken.None);
}
if (scenario is not ("throughput" or "fanout" or "idle" or "hostile" or "fuzz" or "storm"))
{
    Console.Error.WriteLine($"error: unknown scenario '{scenario}'\n\n{Usage}");
    return 2;
}
if (a.Positional.Count > 0)
{
    Console.Error.WriteLine($"error: unexpected argument '{a.Positional[0]}'");
    return 2;
}

Common common;
try
{
    common = new Common
    {
        Url = new Uri(a.String("url", "ws://127.0.0.1:18765/")),
        ApiKey = a.String("api-key", "benchkey"),
        Exchange = a.String("exchange", "NSE"),
        SymbolPrefix = a.String("symbol-prefix", "SYM"),
        ZmqEndpoint = a.String("zmq", "tcp://127.0.0.1:15555"),
        ConnectConcurrency = a.Int("connect-concurrency", 64),
        ConnectTimeout = TimeSpan.FromSeconds(a.Double("connect-timeout", 180)),
        JsonPath = a.String("json"),
        Label = a.String("label"),
        Verbose = a.Flag("verbose"),
        RawClient = a.String("client", "raw") switch
        {
            "raw" => true,
            "clientws" => false,
            var other => throw new UsageException($"--client must be raw or clientws, not '{other}'"),
        },
        Deflate = a.Flag("deflate"),
        ServerPid = a.IntOrNull("server-pid"),
        AlsoPids = Common.NamedInts(a.All("also-pid"), "also-pid"),
        Sites = a.Int("sites", 1) is var n and >= 1 and <= 64 ? n : throw new UsageException("--sites must be 1 to 64"),
        CountPorts = Common.NamedInts(a.All("count-port"), "count-port"),
    };
}
catch (Exception e) when (e is UsageException or UriFormatException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
if (common.Sites > 1 && scenario is not ("throughput" or "fanout"))
{
    Console.Error.WriteLine("error: --sites is for the throughput and fanout scenarios");
    return 2;
}
if (common.Url.Scheme is not ("ws" or "wss"))
{
    Console.Error.WriteLine("error: --url must be ws:// or wss://");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

double maxSeconds = a.Double("max-seconds", 600);
using var watchdog = new Timer(_ =>
{
    Console.Error.WriteLine($"[bench] watchdog: run exceeded --max-seconds {maxSeconds}; stopping");
    try
    {
        common.Launcher?.Stop(TimeSpan.FromSeconds(5));
    }
    finally
    {
        Environment.Exit(3);
    }
}, null, TimeSpan.FromSeconds(maxSeconds), Timeout.InfiniteTimeSpan);

try
{
    string? binary = a.String("server-binary");
    if (binary is not null)
    {
        if (common.ServerPid is not null)
        {
            throw new UsageException("use either --server-pid or --server-binary");
        }
        var internalListen = new Uri("tcp://" + a.String("internal-listen", "127.0.0.1:18765"));
        var ports = new List<string> { a.String("https-listen", "127.0.0.1:18443") };
        for (int site = 0; site < common.Sites; site++)
        {
            ports.Add($"{internalListen.Host}:{internalListen.Port + site}");
            ports.Add(common.SiteZmqEndpoint(site).Replace("tcp://", "", StringComparison.Ordinal));
        }
        foreach (string endpoint in ports)
        {
            var ep = new Uri("tcp://" + endpoint);
            if (await ServerLauncher.WaitForPortAsync(ep.Host, ep.Port, TimeSpan.Zero, null))
            {
                throw new UsageException($"{endpoint} is already in use (another server running?); not starting a second one");
            }
        }
        var env = ServerLauncher.BenchEnvironment(
            common.ApiKey,
            a.String("https-listen", "127.0.0.1:18443"),
            a.String("internal-listen", "127.0.0.1:18765"),
            common.ZmqEndpoint,
            a.String("state-dir", "/tmp/bench-state"),
            a.String("logs-dir", "/tmp/bench-logs"));
        if (common.Sites > 1)
        {
            foreach (var (key, value) in ServerLauncher.SitesEnvironment(common.Sites, internalListen.Host, internalListen.Port, common.SiteZmqEndpoint))
            {
                env[key] = value;
            }
        }
        common.Launcher = ServerLauncher.Start(binary, env, a.All("server-env"), a.String("server-log", "/tmp/bench-logs/server-stdout.log"));
        Common.Log($"started server pid {common.Launcher.Pid} ({binary}); log {common.Launcher.LogFile}");
    }

    RunResult result;
    if (scenario == "idle")
    {
        var o = new IdleOptions(
            Clients: a.Int("clients", 10000),
            SymbolsPerClient: a.Int("symbols", 0),
            Universe: a.Int("universe", 1000),
            Mode: a.Int("mode", 1),
            SettleSeconds: a.Double("settle", 3),
            HoldSeconds: a.Double("hold", 10),
            ReceiveBufferBytes: a.Int("recv-buffer", 4096),
            ReadBufferBytes: a.Int("read-buffer", 4096));
        result = await IdleScenario.RunAsync(common, o, cts.Token);
    }
    else if (scenario == "hostile")
    {
        var o = new HostileOptions(
            Hostile: a.Int("clients", 4),
            QuietSymbols: a.Int("symbols", 50),
            Rate: a.Double("rate", 1000),
            PhaseSeconds: a.Double("phase", 15),
            WarmupSeconds: a.Double("warmup", 3),
            HostileSymbols: a.Int("hostile-symbols", 10000),
            HostileKeys: a.Int("hostile-keys", 40000),
            ReceiveBufferBytes: a.Int("recv-buffer", 65536),
            ReadBufferBytes: a.Int("read-buffer", 65536),
            BatchMilliseconds: Math.Max(1, a.Int("batch-ms", 1)),
            ProbeTimeout: TimeSpan.FromSeconds(a.Double("probe-timeout", 15)));
        result = await HostileScenario.RunAsync(common, o, cts.Token);
    }
    else if (scenario == "storm")
    {
        var o = new StormOptions(
            StartRate: a.Double("start-rate", 100),
            Factor: Math.Max(1.05, a.Double("factor", 1.5)),
            StepSeconds: a.Double("step-seconds", 5),
            MaxRate: a.Double("max-rate", 50000),
            SourceAddresses: Math.Clamp(a.Int("source-addresses", 8), 1, 254),
            AttemptTimeoutSeconds: a.Double("attempt-timeout", 5),
            MaxInFlight: a.Int("max-in-flight", 4000),
            ErrorShare: a.Double("error-share", 0.01),
            HoldClients: a.Int("hold-clients", 100));
        result = await StormScenario.RunAsync(common, o, cts.Token);
    }
    else if (scenario == "fuzz")
    {
        result = await FuzzScenario.RunAsync(common, FuzzOptionsFrom(a), cts.Token);
    }
    else
    {
        bool fan = scenario == "fanout";
        var o = new ThroughputOptions(
            Clients: a.Int("clients", fan ? 1000 : 3),
            SymbolsPerClient: a.Int("symbols", fan ? 20 : 1000),
            Universe: a.Int("universe", 1000),
            Rate: a.Double("rate", fan ? 1000 : 20000),
            DurationSeconds: a.Double("duration", 20),
            WarmupSeconds: a.Double("warmup", 5),
            DrainSeconds: a.Double("drain", 5),
            Mode: a.Int("mode", 1),
            Depth: a.Int("depth", 5),
            SubscribeBatch: Math.Max(1, a.Int("subscribe-batch", 250)),
            ReceiveBufferBytes: a.Int("recv-buffer", 65536),
            ReadBufferBytes: a.Int("read-buffer", 65536),
            BatchMilliseconds: Math.Max(1, a.Int("batch-ms", 1)),
            ProbeTimeout: TimeSpan.FromSeconds(a.Double("probe-timeout", 15)),
            SampleSeconds: Math.Max(1, a.Double("sample-seconds", 5)),
            SamplesFile: a.String("samples"),
            SlowClients: a.Int("slow-clients", 0),
            SlowPauseMilliseconds: a.Double("slow-pause-ms", 20));
        result = await ThroughputScenario.RunAsync(scenario, common, o, cts.Token);
    }

    if (common.Launcher is { HasExited: true } l)
    {
        result.Ok = false;
        result.Notes.Add($"server process exited during the run; log tail: {l.TailLog(10)}");
    }
    common.Finish(result);
    return result.Ok ? 0 : 1;
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("[bench] cancelled");
    return 130;
}
catch (Exception e)
{
    Console.Error.WriteLine($"[bench] failed: {e}");
    return 1;
}
finally
{
    common.Dispose();
    NetMQ.NetMQConfig.Cleanup(block: false);
    Console.Error.Flush();
}

static FuzzOptions FuzzOptionsFrom(Args a) => new(
    Frames: a.Long("frames", 1_000_000),
    Workers: a.Int("workers", 8),
    Seed: a.Int("seed", 1),
    QuietSymbols: a.Int("symbols", 50),
    Rate: a.Double("rate", 500),
    PhaseSeconds: a.Double("phase", 60),
    MaxFuzzSeconds: a.Double("fuzz-seconds", 3600),
    InvalidKeyShare: a.Double("invalid-key-share", 0.002),
    HttpConcurrency: a.Int("http-concurrency", 16),
    HttpsListen: a.String("https-listen", "127.0.0.1:18443"),
    InternalListen: a.String("internal-listen", "127.0.0.1:18765"),
    BatchMilliseconds: Math.Max(1, a.Int("batch-ms", 1)),
    ProbeTimeout: TimeSpan.FromSeconds(a.Double("probe-timeout", 15)));
