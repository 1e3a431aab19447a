using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace OpenAlgo.Appliance.Bench;

public sealed record HostileOptions(
    int Hostile,
    int QuietSymbols,
    double Rate,
    double PhaseSeconds,
    double WarmupSeconds,
    int HostileSymbols,
    int HostileKeys,
    int ReceiveBufferBytes,
    int ReadBufferBytes,
    int BatchMilliseconds,
    TimeSpan ProbeTimeout);

/// <summary>
/// Latency histograms per phase of the measured window, chosen by a tick's bench_ts. Phase i covers
/// [start of i, start of i+1): equal lengths (<see cref="Set"/>) or marked as they happen (<see cref="Mark"/>).
/// </summary>
public sealed class PhaseClock
{
    private readonly long[] _bounds;

    public PhaseClock(int phases)
    {
        Histograms = Enumerable.Range(0, phases).Select(_ => new LatencyHistogram()).ToArray();
        _bounds = Enumerable.Repeat(long.MaxValue, phases + 1).ToArray();
    }

    public LatencyHistogram[] Histograms { get; }

    public void Set(long start, long length)
    {
        for (int i = _bounds.Length - 1; i >= 0; i--)
        {
            Volatile.Write(ref _bounds[i], start + i * length);
        }
    }

    /// <summary>Phase <paramref name="phase"/> (or the end, at <c>phases</c>) starts at <paramref name="at"/>.</summary>
    public void Mark(int phase, long at) => Volatile.Write(ref _bounds[phase], at);

    public long StartOf(int phase) => Volatile.Read(ref _bounds[phase]);

    public void Record(long ts, long microseconds)
    {
        for (int i = 0; i < Histograms.Length; i++)
        {
            if (ts >= Volatile.Read(ref _bounds[i]) && ts < Volatile.Read(ref _bounds[i + 1]))
            {
                Histograms[i].Record(microseconds);
                return;
            }
        }
    }
}

/// <summary>
/// One well-behaved ("quiet") client subscribed to Q symbols that the feeder ticks at R ticks/s,
/// and K hostile clients on the same server. The measured window has four equal phases:
/// <list type="number">
/// <item><c>baseline</c>: only the quiet client's ticks;</item>
/// <item><c>subscribes</c>: every hostile client sends a subscribe naming <c>--hostile-symbols</c>
///   symbols, waits for the answer, sends the matching unsubscribe, waits, and so on;</item>
/// <item><c>objects</c>: every hostile client sends one JSON object with <c>--hostile-keys</c> keys
///   (a ping whose <c>action</c> comes last), waits for the answer, and so on;</item>
/// <item><c>after</c>: the hostile clients are gone; the quiet client's ticks alone again.</item>
/// </list>
/// Reported per phase: the quiet client's tick latency (p50/p99/max) and deliveries, the server's
/// CPU, hostile answers and server CPU per hostile message (the 40,000-key phase is parse cost:
/// its answer is a pong), and the server's RSS at the end of each phase (after = memory kept).
/// </summary>
public static class HostileScenario
{
    private static readonly string[] PhaseNames = ["baseline", "subscribes", "objects", "after"];

    public static async Task<RunResult> RunAsync(Common c, HostileOptions o, CancellationToken ct)
    {
        string label = c.Label ?? $"hostile {c.Transport} {o.Hostile}x({o.HostileSymbols} syms, {o.HostileKeys} keys) vs 1 client @{o.Rate:0}/s";
        var result = new RunResult("hostile", label);
        if (o.Hostile < 1 || o.QuietSymbols < 1 || o.Rate <= 0 || o.PhaseSeconds <= 0 || o.HostileSymbols < 1 || o.HostileKeys < 1)
        {
            throw new UsageException("need --clients >= 1, --symbols >= 1, --rate > 0, --phase > 0, --hostile-symbols >= 1, --hostile-keys >= 1");
        }
        if (!await c.EnsureServerAsync(needZmq: true).ConfigureAwait(false))
        {
            result.Ok = false;
            result.Notes.Add("server not reachable (see log above)");
            return result;
        }

        var phases = new PhaseClock(PhaseNames.Length);
        using var factory = new ClientFactory(c.RawClient, o.ReadBufferBytes);
        var quietSymbols = Enumerable.Range(0, o.QuietSymbols).ToArray();
        var quietOutcome = await c.ConnectAllAsync(
            factory,
            1,
            i => new BenchClient(i, o.ReceiveBufferBytes, histogram: null) { Phases = phases },
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

        // Hostile clients authenticate up front; they start no receive loop (they read their own answers).
        var hostileOutcome = await c.ConnectAllAsync(factory, o.Hostile, i => new BenchClient(1000 + i, 1 << 16, histogram: null), (_, _) => Task.CompletedTask, ct, startReceiveLoop: false).ConfigureAwait(false);
        var hostile = hostileOutcome.Clients;
        if (hostile.Count != o.Hostile)
        {
            result.Notes.Add($"{o.Hostile - hostile.Count} hostile clients failed to connect: {hostileOutcome.FirstError}");
        }

        byte[] subscribe = SymbolsMessage("subscribe", c.Exchange, o.HostileSymbols);
        byte[] unsubscribe = SymbolsMessage("unsubscribe", c.Exchange, o.HostileSymbols);
        byte[] manyKeys = ManyKeysMessage(o.HostileKeys);
        result.Add("hostile_subscribe_bytes", subscribe.Length, "subscribe B", "0", inTable: false);
        result.Add("hostile_object_bytes", manyKeys.Length, "object B", "0", inTable: false);
        Common.Log($"{label}: quiet client on {o.QuietSymbols} symbols, {hostile.Count} hostile clients; subscribe {subscribe.Length / 1024} KiB, object {manyKeys.Length / 1024} KiB");

        var subscribers = new int[o.QuietSymbols];
        Array.Fill(subscribers, 1);
        var feeder = new Feeder(c.ZmqEndpoint, c.Exchange, c.SymbolPrefix, o.QuietSymbols, 1, 5, subscribers, o.Rate);
        using var feederCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        double window = o.PhaseSeconds * PhaseNames.Length;
        var feederThread = new Thread(() => feeder.Run(o.WarmupSeconds, window, o.BatchMilliseconds, () => Volatile.Read(ref quiet.Received), o.ProbeTimeout, feederCts.Token))
        {
            Name = "bench-feeder",
            IsBackground = true,
        };
        feederThread.Start();
        if (!await feeder.Probed.Task.WaitAsync(o.ProbeTimeout + TimeSpan.FromSeconds(10), ct).ConfigureAwait(false))
        {
            feederCts.Cancel();
            result.Ok = false;
            result.Notes.Add(feeder.Failure is not null ? $"feeder failed: {Common.Describe(feeder.Failure)}" : "no tick reached the quiet client");
            await Common.CloseAllAsync([quiet, .. hostile], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            return result;
        }
        long phaseLength = Clock.FromSeconds(o.PhaseSeconds);
        phases.Set(feeder.WindowStart, phaseLength);

        var cpu = new ProcStats.CpuSample[PhaseNames.Length + 1];
        double? machine0 = ProcStats.MachineBusySeconds();
        var answers = new HostileCounts[PhaseNames.Length];
        for (int p = 0; p < PhaseNames.Length; p++)
        {
            answers[p] = new HostileCounts();
        }
        var rssEnd = new double?[PhaseNames.Length];

        for (int p = 0; p < PhaseNames.Length; p++)
        {
            await Common.SleepUntilAsync(phases.StartOf(p), ct).ConfigureAwait(false);
            cpu[p] = ProcStats.CpuSample.Take(c.ServerPid);
            if (p > 0)
            {
                rssEnd[p - 1] = c.ServerPid is int pid0 ? ProcStats.StatusValue(pid0, "VmRSS") / 1024.0 : null;
            }
            long end = phases.StartOf(p + 1);
            Common.Log($"phase {PhaseNames[p]} ({o.PhaseSeconds:0.#} s)");
            switch (PhaseNames[p])
            {
                case "subscribes":
                    await Task.WhenAll(hostile.Select(h => HostileLoopAsync(h, [subscribe, unsubscribe], end, answers[p], ct))).ConfigureAwait(false);
                    break;
                case "objects":
                    await Task.WhenAll(hostile.Select(h => HostileLoopAsync(h, [manyKeys], end, answers[p], ct))).ConfigureAwait(false);
                    break;
                case "after":
                    await Common.CloseAllAsync(hostile, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
                    break;
            }
        }
        await Common.SleepUntilAsync(phases.StartOf(PhaseNames.Length), ct).ConfigureAwait(false);
        cpu[PhaseNames.Length] = ProcStats.CpuSample.Take(c.ServerPid);
        double? machine1 = ProcStats.MachineBusySeconds();
        rssEnd[^1] = c.ServerPid is int pid1 ? ProcStats.StatusValue(pid1, "VmRSS") / 1024.0 : null;
        var memory = c.ServerMemory();
        double? machineLoad = ProcStats.LoadAverage1();

        await feeder.Finished.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        // Let the last ticks arrive.
        long expected = feeder.ExpectedInWindow;
        for (int i = 0; i < 40 && Volatile.Read(ref quiet.InWindow) < expected; i++)
        {
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        long delivered = Volatile.Read(ref quiet.InWindow);

        result.Add("hostile_clients", hostile.Count, "hostile", "0");
        result.Add("quiet_loss_pct", expected == 0 ? null : 100.0 * (expected - delivered) / expected, "quiet loss %", "0.###");
        for (int p = 0; p < PhaseNames.Length; p++)
        {
            string n = PhaseNames[p];
            var h = phases.Histograms[p];
            double wall = Clock.ToSeconds(cpu[p + 1].Timestamp - cpu[p].Timestamp);
            result.Add($"{n}_ticks", h.TotalCount, $"{n} ticks", "0", inTable: false);
            result.Add($"{n}_p50_ms", h.Percentile(50) / 1000.0, $"{n} p50 ms", "0.###", inTable: false);
            result.Add($"{n}_p99_ms", h.Percentile(99) / 1000.0, $"{n} p99 ms", "0.###");
            result.Add($"{n}_max_ms", h.Max / 1000.0, $"{n} max ms", "0.###", inTable: p is 1 or 2);
            if (cpu[p].ServerCpu is double c0 && cpu[p + 1].ServerCpu is double c1)
            {
                result.Add($"{n}_server_cpu_pct", 100 * (c1 - c0) / wall, $"{n} CPU %", "0.0", inTable: false);
                if (answers[p].Total > 0)
                {
                    result.Add($"{n}_server_cpu_ms_per_msg", (c1 - c0) * 1000 / answers[p].Total, $"{n} CPU ms/msg", "0.00", inTable: p is 1 or 2);
                }
            }
            if (p is 1 or 2)
            {
                result.Add($"{n}_answered", answers[p].Total, $"{n} answered", "0");
                result.Add($"{n}_answer_median_ms", answers[p].MedianMilliseconds(), $"{n} answer median ms", "0.#", inTable: false);
                result.Notes.Add($"{n}: hostile answers {answers[p].Describe()}");
            }
            result.Add($"{n}_rss_mb", rssEnd[p], $"RSS end of {n} MB", "0.0", inTable: p is 0 or 3);
        }
        foreach (var m in memory.Where(m => m.Key is "server_rss_peak_mb" or "server_threads"))
        {
            result.Metrics.Add(m with { InTable = m.Key == "server_rss_peak_mb" });
        }
        if (cpu[0].SelfCpu is double s0 && cpu[^1].SelfCpu is double s1)
        {
            result.Add("load_cpu_pct", 100 * (s1 - s0) / window, "load CPU %", "0.0", inTable: false);
        }
        result.Add("loadavg_1m", machineLoad, "load avg 1m", "0.00");
        if (machine0 is double m0 && machine1 is double m1 && cpu[0].ServerCpu is double sv0 && cpu[^1].ServerCpu is double sv1
            && cpu[0].SelfCpu is double h0 && cpu[^1].SelfCpu is double h1)
        {
            // Busy time of everything else on the machine (other work, not this benchmark), 100 % = one core.
            double wallAll = Clock.ToSeconds(cpu[^1].Timestamp - cpu[0].Timestamp);
            result.Add("foreign_cpu_pct", 100 * Math.Max(0, m1 - m0 - (sv1 - sv0) - (h1 - h0)) / wallAll, "foreign CPU %", "0");
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

    /// <summary>Sends the messages in turn, each after the previous one's answer, until <paramref name="end"/>.</summary>
    private static async Task HostileLoopAsync(BenchClient client, byte[][] messages, long end, HostileCounts counts, CancellationToken ct)
    {
        // The harness's own work must not delay the quiet client it measures: socket continuations run
        // inline on the harness's epoll threads, which serve the quiet client too. So an answer (up to
        // 1 MB) is read into one reused buffer and only its first bytes are looked at; and the loop
        // leaves the epoll thread before doing anything else.
        var buffer = new byte[64 * 1024];
        int i = 0;
        try
        {
            while (Clock.Now < end && !ct.IsCancellationRequested)
            {
                await Task.Yield();
                long sent = Clock.Now;
                await client.Socket.SendAsync(messages[i++ % messages.Length], WebSocketMessageType.Text, endOfMessage: true, ct).ConfigureAwait(false);
                int head = 0;
                while (true)
                {
                    var r = await client.Socket.ReceiveAsync(buffer.AsMemory(head == 0 ? 0 : Math.Min(head, 512)), ct).ConfigureAwait(false);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        throw new InvalidOperationException($"server closed the connection: {client.Socket.CloseStatus} {client.Socket.CloseStatusDescription}");
                    }
                    if (head < 512)
                    {
                        head += r.Count;
                    }
                    if (r.EndOfMessage)
                    {
                        break;
                    }
                }
                counts.Add(Classify(Encoding.UTF8.GetString(buffer, 0, Math.Min(head, 512))), Clock.Now - sent);
            }
        }
        catch (Exception e) when (e is WebSocketException or InvalidOperationException or IOException or OperationCanceledException)
        {
            counts.Add("disconnected: " + BenchClient.Truncate(e.Message, 120), 0);
        }
    }

    /// <summary>"type/status" or "error CODE" from the start of an answer (the server writes type, status and code first).</summary>
    private static string Classify(string head)
    {
        static string? Field(string text, string name)
        {
            string key = $"\"{name}\": \"";
            int at = text.IndexOf(key, StringComparison.Ordinal);
            if (at < 0)
            {
                return null;
            }
            int start = at + key.Length;
            int stop = text.IndexOf('"', start);
            return stop < 0 ? null : text[start..stop];
        }
        string? type = Field(head, "type");
        return type is not null ? $"{type}/{Field(head, "status")}" : $"error {Field(head, "code")}";
    }

    /// <summary>Symbols HX0..HX(n-1): the same list for every hostile client, none of them ticked.</summary>
    private static byte[] SymbolsMessage(string action, string exchange, int count)
    {
        var sb = new StringBuilder(count * 48);
        sb.Append("{\"action\": \"").Append(action).Append("\", \"symbols\": [");
        for (int j = 0; j < count; j++)
        {
            if (j > 0)
            {
                sb.Append(", ");
            }
            sb.Append("{\"symbol\": \"HX").Append(j.ToString(CultureInfo.InvariantCulture)).Append("\", \"exchange\": \"").Append(exchange).Append("\", \"mode\": 1}");
        }
        sb.Append("], \"mode\": 1}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>{"k0": 0, "k1": 0, …, "action": "ping"}: the whole object must be read before the action is known.</summary>
    private static byte[] ManyKeysMessage(int keys)
    {
        var sb = new StringBuilder(keys * 12);
        sb.Append('{');
        for (int j = 0; j < keys; j++)
        {
            sb.Append("\"k").Append(j.ToString(CultureInfo.InvariantCulture)).Append("\": 0, ");
        }
        sb.Append("\"action\": \"ping\"}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private sealed class HostileCounts
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, int> _kinds = [];
        private readonly List<long> _times = [];

        public int Total
        {
            get
            {
                lock (_gate)
                {
                    return _times.Count;
                }
            }
        }

        public void Add(string kind, long elapsedTicks)
        {
            lock (_gate)
            {
                _kinds[kind] = _kinds.GetValueOrDefault(kind) + 1;
                if (!kind.StartsWith("disconnected", StringComparison.Ordinal))
                {
                    _times.Add(elapsedTicks);
                }
            }
        }

        public double? MedianMilliseconds()
        {
            lock (_gate)
            {
                return _times.Count == 0 ? null : Summary.Median(_times.Select(t => Clock.ToSeconds(t) * 1000).ToList());
            }
        }

        public string Describe()
        {
            lock (_gate)
            {
                return _kinds.Count == 0 ? "none" : string.Join(", ", _kinds.OrderByDescending(k => k.Value).Select(k => $"{k.Value}× {k.Key}"));
            }
        }
    }
}
