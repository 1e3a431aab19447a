namespace OpenAlgo.Appliance.Bench;

public sealed record ThroughputOptions(
    int Clients,
    int SymbolsPerClient,
    int Universe,
    double Rate,
    double DurationSeconds,
    double WarmupSeconds,
    double DrainSeconds,
    int Mode,
    int Depth,
    int SubscribeBatch,
    int ReceiveBufferBytes,
    int ReadBufferBytes,
    int BatchMilliseconds,
    TimeSpan ProbeTimeout,
    double SampleSeconds = 5,
    string? SamplesFile = null,
    int SlowClients = 0,
    double SlowPauseMilliseconds = 0);

/// <summary>
/// N clients each subscribed to S symbols of a universe U; the feeder publishes R ticks/s round-robin
/// over U. Client i gets symbols (i*S + j) mod U, j &lt; S, so every symbol has ~N*S/U subscribers.
/// Deliveries and latencies are counted for ticks whose bench_ts falls in the measured window.
/// With --sites K the same load is split into K sites: site k has the clients
/// [ceil(k·N/K), ceil((k+1)·N/K)) and the symbols [ceil(k·U/K), ceil((k+1)·U/K)), each client's
/// symbols taken in its site's part as above — so every symbol still has ~N*S/U subscribers, every
/// site gets ~R/K ticks/s on its own bus, and the totals (clients, ticks/s, deliveries/s) are those
/// of one site.
/// </summary>
public static class ThroughputScenario
{
    public static async Task<RunResult> RunAsync(string scenario, Common c, ThroughputOptions o, CancellationToken ct)
    {
        string label = c.Label ?? $"{scenario} {c.Transport} {o.Clients}c x {o.SymbolsPerClient}/{o.Universe}s @{o.Rate:0}/s";
        var result = new RunResult(scenario, label);
        if (o.SymbolsPerClient > o.Universe || o.SymbolsPerClient < 1 || o.Clients < 1 || o.Rate <= 0 || o.DurationSeconds <= 0)
        {
            throw new UsageException("need 1 <= --symbols <= --universe, --clients >= 1, --rate > 0, --duration > 0");
        }
        int sites = c.Sites;
        if (o.SymbolsPerClient > o.Universe / sites || o.Clients < sites)
        {
            throw new UsageException($"--sites {sites} needs --symbols <= universe/{sites} and at least {sites} clients");
        }
        int SiteOf(int client) => Feeder.PartOf(client, o.Clients, sites);

        if (!await c.EnsureServerAsync(needZmq: true).ConfigureAwait(false))
        {
            result.Ok = false;
            result.Notes.Add("server not reachable (see log above)");
            return result;
        }

        Common.Log(sites == 1 ? $"{label}: connecting {o.Clients} clients to {c.Url} ..."
            : $"{label}: connecting {o.Clients} clients to {sites} sites ({string.Join(", ", Enumerable.Range(0, sites).Select(c.SiteUrl))}) ...");
        int shards = Math.Min(o.Clients, 32);
        var histograms = Enumerable.Range(0, shards).Select(_ => new LatencyHistogram()).ToArray();
        using var factory = new ClientFactory(c.RawClient, o.ReadBufferBytes, c.Deflate);
        var connect = await c.ConnectAllAsync(
            factory,
            o.Clients,
            i => new BenchClient(i, o.ReceiveBufferBytes, histograms[i % shards]),
            async (client, token) =>
            {
                int site = SiteOf(client.Index);
                long local = client.Index - Feeder.PartStart(site, o.Clients, sites);
                int first = Feeder.PartStart(site, o.Universe, sites), count = Feeder.PartStart(site + 1, o.Universe, sites) - first;
                var symbols = Enumerable.Range(0, o.SymbolsPerClient).Select(j => first + (int)((local * o.SymbolsPerClient + j) % count)).ToArray();
                await client.SubscribeAsync(symbols.Select(c.SymbolName).ToList(), c.Exchange, o.Mode, o.Depth, o.SubscribeBatch, token).ConfigureAwait(false);
                client.Symbols = symbols;
            },
            ct,
            urlOf: i => c.SiteUrl(SiteOf(i))).ConfigureAwait(false);
        var clients = connect.Clients;
        Common.Log($"{clients.Count} clients connected+authenticated+subscribed in {connect.Seconds:0.0}s, {connect.Failed} failed");
        result.Add("clients", clients.Count, "clients", "0");
        result.Add("sites", sites, "sites", "0", inTable: false);
        result.Add("clients_failed", connect.Failed, "failed", "0", inTable: connect.Failed > 0);
        result.Add("symbols_per_client", o.SymbolsPerClient, "syms/client", "0", inTable: false);
        result.Add("universe", o.Universe, "universe", "0", inTable: false);
        result.Add("setup_seconds", connect.Seconds, "setup s", "0.0", inTable: false);
        if (connect.FirstError is not null)
        {
            result.Notes.Add($"{connect.Failed} connections failed; first: {connect.FirstError}");
        }
        if (clients.Count == 0)
        {
            result.Ok = false;
            await Common.CloseAllAsync(clients, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            return result;
        }

        // Slow consumers (--slow-clients): each mirrors fast client k mod N's symbols and pauses after
        // every frame it reads, so its socket backs up and the server must conflate for it. They are
        // not in `clients`: the loss, latency and expected counts above and below are the fast clients'.
        var slowHistogram = new LatencyHistogram();
        var slow = new List<BenchClient>();
        if (o.SlowClients > 0)
        {
            var fastByIndex = clients.ToDictionary(x => x.Index);
            var slowConnect = await c.ConnectAllAsync(
                factory,
                o.SlowClients,
                i => new BenchClient(o.Clients + i, o.ReceiveBufferBytes, slowHistogram) { PauseMilliseconds = o.SlowPauseMilliseconds },
                async (client, token) =>
                {
                    var mirror = clients[(client.Index - o.Clients) % clients.Count];
                    await client.SubscribeAsync(mirror.Symbols.Select(c.SymbolName).ToList(), c.Exchange, o.Mode, o.Depth, o.SubscribeBatch, token).ConfigureAwait(false);
                    client.Symbols = mirror.Symbols;
                },
                ct,
                urlOf: i => c.SiteUrl(SiteOf(clients[i % clients.Count].Index))).ConfigureAwait(false);
            slow = slowConnect.Clients;
            Common.Log($"{slow.Count} slow clients (pause {o.SlowPauseMilliseconds} ms after each frame) connected, {slowConnect.Failed} failed");
            result.Add("slow_clients", slow.Count, "slow clients", "0");
        }
        long SlowReceived() => slow.Sum(x => Volatile.Read(ref x.Received));

        var subscribers = new int[o.Universe];
        foreach (var cl in clients)
        {
            foreach (int s in cl.Symbols)
            {
                subscribers[s]++;
            }
        }

        long TotalReceived()
        {
            long n = 0;
            foreach (var cl in clients)
            {
                n += Volatile.Read(ref cl.Received);
            }
            return n;
        }
        long TotalInWindow()
        {
            long n = 0;
            foreach (var cl in clients)
            {
                n += Volatile.Read(ref cl.InWindow);
            }
            return n;
        }

        long ReceivedOnSite(int site)
        {
            long n = 0;
            foreach (var cl in clients)
            {
                if (SiteOf(cl.Index) == site)
                {
                    n += Volatile.Read(ref cl.Received);
                }
            }
            return n;
        }

        var endpoints = Enumerable.Range(0, sites).Select(c.SiteZmqEndpoint).ToArray();
        var feeder = new Feeder(endpoints, c.Exchange, c.SymbolPrefix, o.Universe, o.Mode, o.Depth, subscribers, o.Rate);
        using var feederCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var feederThread = new Thread(() => feeder.Run(o.WarmupSeconds, o.DurationSeconds, o.BatchMilliseconds, ReceivedOnSite, o.ProbeTimeout, feederCts.Token))
        {
            Name = "bench-feeder",
            IsBackground = true,
        };
        feederThread.Start();
        Common.Log($"feeder: PUB connecting to {string.Join(", ", endpoints)}; probing until a first tick reaches a client{(sites == 1 ? "" : " of every site")} (payload {feeder.PayloadBytes} B)");

        bool probed = await feeder.Probed.Task.WaitAsync(o.ProbeTimeout + TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        if (!probed)
        {
            feederCts.Cancel();
            result.Ok = false;
            result.Notes.Add(feeder.Failure is not null
                ? $"feeder failed: {Common.Describe(feeder.Failure)}"
                : $"no tick reached any client within {o.ProbeTimeout.TotalSeconds:0}s ({feeder.ProbesSent} probe ticks sent); frames received: {TotalReceived()}");
            AddFirstMessages(result, clients);
            await Common.CloseAllAsync(clients, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            return result;
        }
        Common.Log($"first tick delivered after {feeder.ProbesSent} probe(s); warm-up {o.WarmupSeconds}s, then measuring {o.DurationSeconds}s at {o.Rate:0} ticks/s");

        using var progressCts = new CancellationTokenSource();
        var samples = new ProgressSampler(o.SamplesFile, c.ServerPid);
        var progress = Task.Run(async () =>
        {
            long lastSent = 0, lastRecv = 0;
            var last = ProcStats.CpuSample.Take(c.ServerPid);
            while (!progressCts.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(o.SampleSeconds), progressCts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var now = ProcStats.CpuSample.Take(c.ServerPid);
                long sent = Volatile.Read(ref feeder.Sent), recv = TotalReceived();
                double dt = Clock.ToSeconds(now.Timestamp - last.Timestamp);
                int open = clients.Count(x => !x.LoopEnded);
                samples.Add(now, last, (sent - lastSent) / dt, (recv - lastRecv) / dt, open, clients.Count, SlowReceived());
                (lastSent, lastRecv, last) = (sent, recv, now);
            }
        });

        await Common.SleepUntilAsync(feeder.WindowStart, ct).ConfigureAwait(false);
        var s0 = ProcStats.CpuSample.Take(c.ServerPid);
        long received0 = TotalReceived();
        long? switches0 = c.ServerPid is int p0 ? ProcStats.ContextSwitches(p0) : null;
        var also0 = c.AlsoPids.Select(p => ProcStats.CpuSeconds(p.Pid)).ToArray();
        double? machine0 = ProcStats.MachineBusySeconds();
        await Common.SleepUntilAsync(feeder.WindowEnd, ct).ConfigureAwait(false);
        var s1 = ProcStats.CpuSample.Take(c.ServerPid);
        long received1 = TotalReceived();
        long? switches1 = c.ServerPid is int p1 ? ProcStats.ContextSwitches(p1) : null;
        var also1 = c.AlsoPids.Select(p => ProcStats.CpuSeconds(p.Pid)).ToArray();
        double? machine1 = ProcStats.MachineBusySeconds();
        var connsAtEnd = c.CountPorts.Select(p => ProcStats.EstablishedOnLocalPort(p.Port)).ToArray();
        double? loadAtEnd = ProcStats.LoadAverage1();
        var memoryAtEnd = c.ServerMemory();
        var alsoRss = c.AlsoPids.Select(p => ProcStats.StatusValue(p.Pid, "VmRSS")).ToArray();

        await feeder.Finished.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        long expected = feeder.ExpectedInWindow;

        // Drain: wait for in-flight messages until all expected arrived or nothing moved for 1 s.
        long drainDeadline = Clock.Now + Clock.FromSeconds(o.DrainSeconds);
        long lastCount = -1, lastChange = Clock.Now;
        while (Clock.Now < drainDeadline)
        {
            long n = TotalInWindow();
            if (n >= expected)
            {
                break;
            }
            if (n != lastCount)
            {
                (lastCount, lastChange) = (n, Clock.Now);
            }
            else if (Clock.ToSeconds(Clock.Now - lastChange) >= 1.0)
            {
                break;
            }
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        progressCts.Cancel();
        await progress.ConfigureAwait(false);

        samples.Finish(result);
        if (slow.Count > 0)
        {
            // What a fast client got against what a slow one got of the same symbols: the share conflated away.
            double fastPer = clients.Average(x => (double)Volatile.Read(ref x.InWindow));
            double slowPer = slow.Average(x => (double)Volatile.Read(ref x.InWindow));
            result.Add("slow_delivered_share_pct", fastPer == 0 ? null : 100 * slowPer / fastPer, "slow got % of fast", "0.0");
            result.Add("slow_latency_p50_ms", slowHistogram.Percentile(50) / 1000.0, "slow p50 ms", "0.###", inTable: false);
            result.Add("slow_latency_max_ms", slowHistogram.Max / 1000.0, "slow max ms", "0.###", inTable: false);
            // How old the newest tick a slow client had read was when the window ended (the kernel's
            // socket buffers hold what the server sent before conflation began).
            var ages = slow.Select(x => Volatile.Read(ref x.LastTimestamp)).Where(t => t >= 0).Select(t => Clock.ToSeconds(feeder.WindowEnd - t)).ToList();
            result.Add("slow_staleness_mean_s", ages.Count == 0 ? null : ages.Average(), "slow staleness s", "0.0");
            result.Add("slow_staleness_max_s", ages.Count == 0 ? null : ages.Max(), "slow staleness max s", "0.0", inTable: false);
            result.Add("slow_frames_read", slow.Sum(x => Volatile.Read(ref x.Received)), "slow frames read", "0", inTable: false);
            int slowEnded = slow.Count(x => x.LoopEnded);
            result.Add("slow_disconnected", slowEnded, "slow disconnected", "0");
            var slowGone = slow.FirstOrDefault(x => x.LoopEnded);
            if (slowGone is not null)
            {
                result.Notes.Add($"slow client {slowGone.Index} disconnected: close={slowGone.CloseStatus ?? "-"} error={slowGone.Error ?? "-"}");
            }
        }
        result.Add("clients_without_ticks", clients.Count(x => Volatile.Read(ref x.InWindow) == 0), "clients without ticks", "0", inTable: false);
        long delivered = TotalInWindow();
        var all = new LatencyHistogram();
        foreach (var h in histograms)
        {
            all.Add(h);
        }
        double window = o.DurationSeconds;
        double wall = Clock.ToSeconds(s1.Timestamp - s0.Timestamp);

        result.Add("offered_ticks_per_s", feeder.SentInWindow / window, "offered ticks/s", "0");
        result.Add("expected_deliveries", expected, "expected msgs", "0", inTable: false);
        result.Add("expected_msgs_per_s", expected / window, "expected msg/s", "0");
        result.Add("delivered_msgs_per_s", delivered / window, "delivered msg/s", "0");
        result.Add("received_msgs_per_s", (received1 - received0) / wall, "received msg/s", "0");
        result.Add("loss_pct", expected == 0 ? null : 100.0 * (expected - delivered) / expected, "loss %", "0.###");
        result.Add("latency_p50_ms", all.Percentile(50) / 1000.0, "p50 ms", "0.###");
        result.Add("latency_p99_ms", all.Percentile(99) / 1000.0, "p99 ms", "0.###");
        result.Add("latency_p999_ms", all.Percentile(99.9) / 1000.0, "p99.9 ms", "0.###");
        result.Add("latency_max_ms", all.Max / 1000.0, "max ms", "0.###");
        result.Add("latency_mean_ms", all.Mean() / 1000.0, "mean ms", "0.###", inTable: false);
        if (s0.ServerCpu is double sc0 && s1.ServerCpu is double sc1)
        {
            double cpu = sc1 - sc0;
            result.Add("server_cpu_pct", 100 * cpu / wall, "server CPU %", "0.0");
            result.Add("server_cpu_us_per_msg", delivered == 0 ? null : cpu * 1e6 / delivered, "server CPU µs/msg", "0.00");
        }
        if (switches1 - switches0 is long switches)
        {
            // How often the server's threads went to sleep or were preempted: its wake-ups, the fixed cost per batch.
            result.Add("server_switches_per_s", switches / wall, "server ctx switches/s", "0", inTable: false);
            result.Add("server_switches_per_tick", feeder.SentInWindow == 0 ? null : (double)switches / feeder.SentInWindow, "server ctx switches/tick", "0.00", inTable: false);
        }
        if (s0.SelfCpu is double c0 && s1.SelfCpu is double c1)
        {
            double cpu = c1 - c0;
            result.Add("load_cpu_pct", 100 * cpu / wall, "load CPU %", "0.0");
            result.Add("load_cpu_us_per_msg", delivered == 0 ? null : cpu * 1e6 / delivered, "load CPU µs/msg", "0.00");
            if (s0.FeederCpu is double f0 && s1.FeederCpu is double f1)
            {
                result.Add("feeder_cpu_pct", 100 * (f1 - f0) / wall, "feeder CPU %", "0.0", inTable: false);
                result.Add("feeder_cpu_us_per_tick", feeder.SentInWindow == 0 ? null : (f1 - f0) * 1e6 / feeder.SentInWindow, "feeder CPU µs/tick", "0.00", inTable: false);
                result.Add("clients_cpu_us_per_msg", delivered == 0 ? null : (cpu - (f1 - f0)) * 1e6 / delivered, "clients CPU µs/msg", "0.00");
            }
        }
        // Several --also-pid with one NAME (nginx's workers) are summed under that name.
        double stackCpu = s0.ServerCpu is double ss0 && s1.ServerCpu is double ss1 ? ss1 - ss0 : 0;
        foreach (var group in c.AlsoPids.Select((p, i) => (p.Name, i)).GroupBy(x => x.Name))
        {
            string name = group.Key;
            double cpu = 0, rssKb = 0;
            bool any = false;
            foreach (var (_, i) in group)
            {
                if (also0[i] is double a0 && also1[i] is double a1)
                {
                    cpu += a1 - a0;
                    any = true;
                }
                rssKb += alsoRss[i] ?? 0;
            }
            if (any)
            {
                stackCpu += cpu;
                result.Add($"{name}_cpu_pct", 100 * cpu / wall, $"{name} CPU %", "0.0");
                result.Add($"{name}_cpu_us_per_msg", delivered == 0 ? null : cpu * 1e6 / delivered, $"{name} CPU µs/msg", "0.00");
            }
            result.Add($"{name}_rss_mb", rssKb / 1024.0, $"{name} RSS MB", "0.0", inTable: false);
        }
        if (s0.ServerCpu is not null && s1.ServerCpu is not null)
        {
            // The whole stack a user runs: the server plus every --also-pid process (nginx in front of OpenAlgo's proxy).
            result.Add("stack_cpu_us_per_msg", delivered == 0 ? null : stackCpu * 1e6 / delivered, "stack CPU µs/msg", "0.00");
            // A saturated stack (OpenAlgo's proxy at 20,000 ticks/s) delivers the window's ticks late or
            // not at all; its CPU per delivery is then per frame that arrived during the window, whatever its bench_ts.
            result.Add("stack_cpu_us_per_received", received1 == received0 ? null : stackCpu * 1e6 / (received1 - received0), "stack CPU µs/received", "0.00");
        }
        for (int i = 0; i < c.CountPorts.Count; i++)
        {
            result.Add($"{c.CountPorts[i].Name}_conns", connsAtEnd[i], $"{c.CountPorts[i].Name} conns", "0");
        }
        if (machine0 is double m0 && machine1 is double m1)
        {
            // Everything busy on the machine that is neither the server, the --also-pid processes nor this harness.
            double ours = (s1.ServerCpu - s0.ServerCpu ?? 0) + (s1.SelfCpu - s0.SelfCpu ?? 0);
            for (int i = 0; i < c.AlsoPids.Count; i++)
            {
                ours += also1[i] - also0[i] ?? 0;
            }
            result.Add("foreign_cpu_pct", 100 * Math.Max(0, m1 - m0 - ours) / wall, "foreign CPU %", "0.0");
        }
        result.Add("loadavg_1m", loadAtEnd, "load avg 1m", "0.00", inTable: false);
        result.Add("load_alloc_bytes_per_msg", delivered == 0 ? null : (double)(s1.AllocatedBytes - s0.AllocatedBytes) / delivered, "load alloc B/msg", "0.0", inTable: false);
        result.Add("load_gen0_gcs", s1.Gen0 - s0.Gen0, "load gen0 GCs", "0", inTable: false);
        foreach (var m in memoryAtEnd)
        {
            result.Metrics.Add(m);
        }

        long pre = clients.Sum(x => x.PreWindow), post = clients.Sum(x => x.PostWindow), other = clients.Sum(x => x.Other);
        long oversize = clients.Sum(x => x.Oversize), floats = clients.Sum(x => x.FloatTimestamps);
        int ended = clients.Count(x => x.LoopEnded);
        if (c.RawClient)
        {
            // Everything the clients read over the whole run (handshakes, acks, probe and warm-up ticks
            // included; ticks are all but a few hundred of the frames) ÷ frames received.
            long frames = clients.Sum(x => x.Received);
            result.Add("ws_bytes_per_msg", frames == 0 ? null : (double)Interlocked.Read(ref WireCounters.WebSocketBytes) / frames, "WS B/msg", "0.0");
            result.Add("tcp_bytes_per_msg", frames == 0 ? null : (double)Interlocked.Read(ref WireCounters.TcpBytes) / frames, "TCP B/msg", "0.0");
        }
        result.Add("deflate", c.Deflate ? 1 : 0, "deflate", "0", inTable: false);
        result.Add("ticks_sent_total", feeder.Sent, "ticks sent", "0", inTable: false);
        result.Add("feeder_skipped_ticks", feeder.SkippedTicks, "feeder skipped", "0", inTable: false);
        result.Add("feeder_max_batch", feeder.MaxBatch, "feeder max batch", "0", inTable: false);
        result.Add("probe_ticks", feeder.ProbesSent, "probe ticks", "0", inTable: false);
        result.Add("received_prewindow", pre, "pre-window msgs", "0", inTable: false);
        result.Add("received_postwindow", post, "post-window msgs", "0", inTable: false);
        result.Add("received_other", other, "non-tick msgs", "0", inTable: false);
        result.Add("received_oversize", oversize, "oversize msgs", "0", inTable: false);
        result.Add("received_float_ts", floats, "float bench_ts", "0", inTable: false);
        result.Add("clients_disconnected", ended, "disconnected", "0", inTable: false);
        if (feeder.SkippedTicks > 0)
        {
            result.Notes.Add($"feeder fell behind and skipped {feeder.SkippedTicks} ticks (offered rate is what was actually sent)");
        }
        if (delivered > expected)
        {
            result.Notes.Add($"{delivered - expected} more deliveries than expected (duplicates or unsubscribed symbols delivered)");
        }
        if (other > 0 || oversize > 0 || floats > 0 || ended > 0)
        {
            result.Notes.Add($"anomalies: {other} frames without bench_ts, {oversize} oversize frames, {floats} float bench_ts, {ended} clients disconnected");
        }
        if (feeder.Failure is not null)
        {
            result.Ok = false;
            result.Notes.Add($"feeder failed: {Common.Describe(feeder.Failure)}");
        }
        if (expected > 0 && delivered == 0 && received1 == received0)
        {
            result.Ok = false;
        }
        else if (expected > 0 && delivered < expected / 2)
        {
            result.Notes.Add($"saturated: {received1 - received0} frames arrived during the window but only {delivered} of its {expected} ticks within the drain (the server queues; compare CPU per received frame)");
        }
        AddFirstMessages(result, clients, c.Verbose);

        await Common.CloseAllAsync([.. clients, .. slow], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return result;
    }

    private static void AddFirstMessages(RunResult result, List<BenchClient> clients, bool verbose = true)
    {
        var disconnected = clients.FirstOrDefault(x => x.LoopEnded);
        if (disconnected is not null)
        {
            result.Notes.Add($"client {disconnected.Index} disconnected: close={disconnected.CloseStatus ?? "-"} error={disconnected.Error ?? "-"}");
        }
        var withOther = clients.FirstOrDefault(x => x.FirstOther is not null);
        if (withOther is not null)
        {
            result.Notes.Add($"first non-tick frame: {BenchClient.Truncate(withOther.FirstOther!, 300)}");
        }
        if (verbose)
        {
            var withData = clients.FirstOrDefault(x => x.FirstData is not null);
            if (withData is not null)
            {
                Common.Log($"sample delivered frame: {withData.FirstData}");
            }
        }
    }
}
