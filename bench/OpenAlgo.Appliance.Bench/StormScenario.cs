using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace OpenAlgo.Appliance.Bench;

public sealed record StormOptions(
    double StartRate,
    double Factor,
    double StepSeconds,
    double MaxRate,
    int SourceAddresses,
    double AttemptTimeoutSeconds,
    int MaxInFlight,
    double ErrorShare,
    int HoldClients);

/// <summary>
/// Connect storm: new clients arrive at a fixed rate (open loop: one is started every 1/r s whether
/// or not the earlier ones are done), each connects (TCP, TLS on wss), upgrades, authenticates, waits
/// for the answer and hangs up (RST: no TIME_WAIT). The rate starts at --start-rate and is multiplied
/// by --factor every --step-seconds until more than --error-share of a step's attempts fail (refused,
/// reset, timed out after --attempt-timeout), more than --max-in-flight are pending at once (the
/// server has stopped keeping up), or --max-rate is reached. Per step: offered and completed
/// connections/s, failures by kind, connect-to-authenticated p50/p99/max. Meanwhile --hold-clients
/// connections stay open and are pinged each step: those already connected must stay served.
/// Client sockets are bound round-robin to 127.0.0.1 … 127.0.0.N (--source-addresses N): each
/// source address has its own ephemeral ports.
/// </summary>
public static class StormScenario
{
    public static async Task<RunResult> RunAsync(Common c, StormOptions o, CancellationToken ct)
    {
        string label = c.Label ?? $"storm {c.Transport}";
        var result = new RunResult("storm", label);
        if (!await c.EnsureServerAsync(needZmq: false).ConfigureAwait(false))
        {
            result.Ok = false;
            result.Notes.Add("server not reachable (see log above)");
            return result;
        }
        var sources = Enumerable.Range(1, Math.Max(1, o.SourceAddresses)).Select(i => new IPAddress(new byte[] { 127, 0, 0, (byte)i })).ToArray();
        byte[] auth = Encoding.UTF8.GetBytes("{\"action\": \"authenticate\", \"api_key\": \"" + c.ApiKey + "\"}");

        // Clients connected before the storm, pinged between steps: the ones already in must stay served.
        using var factory = new ClientFactory(raw: true, 4096);
        var held = (await c.ConnectAllAsync(factory, o.HoldClients, i => new BenchClient(i, 4096, null), (_, _) => Task.CompletedTask, ct, startReceiveLoop: false).ConfigureAwait(false)).Clients;

        double rate = o.StartRate;
        double? firstErrorRate = null;
        double bestClean = 0;
        string? stopReason = null;
        int step = 0;
        var inv = CultureInfo.InvariantCulture;
        while (stopReason is null && !ct.IsCancellationRequested)
        {
            step++;
            var histogram = new LatencyHistogram();
            var failures = new ConcurrentDictionary<string, int>();
            int ok = 0, inFlight = 0, peakInFlight = 0;
            var attempts = new List<Task>();
            var cpu0 = ProcStats.CpuSample.Take(c.ServerPid);
            long start = Clock.Now;
            long stepEnd = start + Clock.FromSeconds(o.StepSeconds);
            long n = 0;
            bool overrun = false;
            while (Clock.Now < stepEnd && !ct.IsCancellationRequested)
            {
                long due = (long)(Clock.ToSeconds(Clock.Now - start) * rate);
                for (; n < due; n++)
                {
                    int now = Interlocked.Increment(ref inFlight);
                    if (now > peakInFlight) peakInFlight = now;
                    if (now > o.MaxInFlight)
                    {
                        Interlocked.Decrement(ref inFlight);
                        overrun = true;
                        failures.AddOrUpdate("not started: too many pending", 1, (_, v) => v + 1);
                        continue;
                    }
                    var source = sources[n % sources.Length];
                    attempts.Add(Task.Run(async () =>
                    {
                        long t0 = Clock.Now;
                        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(o.AttemptTimeoutSeconds));
                        WebSocket? ws = null;
                        try
                        {
                            ws = await RawWebSocket.ConnectAsync(c.Url, 4096, false, timeout.Token, bind: source, resetOnClose: true).ConfigureAwait(false);
                            await ws.SendAsync(auth, WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
                            var buffer = new byte[1024];
                            var r = await ws.ReceiveAsync(buffer.AsMemory(), timeout.Token).ConfigureAwait(false);
                            string reply = Encoding.UTF8.GetString(buffer, 0, r.Count);
                            if (!reply.Contains("\"success\"", StringComparison.Ordinal))
                            {
                                failures.AddOrUpdate("refused: " + BenchClient.Truncate(reply, 80), 1, (_, v) => v + 1);
                                return;
                            }
                            histogram.Record(Clock.ToMicroseconds(Clock.Now - t0));
                            Interlocked.Increment(ref ok);
                        }
                        catch (Exception e)
                        {
                            string kind = e switch
                            {
                                OperationCanceledException => $"timed out after {o.AttemptTimeoutSeconds:0.#} s",
                                System.Net.Sockets.SocketException se => "socket: " + se.SocketErrorCode,
                                _ => e.GetType().Name + ": " + BenchClient.Truncate(e.Message, 60),
                            };
                            failures.AddOrUpdate(kind, 1, (_, v) => v + 1);
                        }
                        finally
                        {
                            ws?.Abort();
                            ws?.Dispose();
                            Interlocked.Decrement(ref inFlight);
                        }
                    }, CancellationToken.None));
                }
                await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
            }
            await Task.WhenAll(attempts).ConfigureAwait(false);
            double wall = Clock.ToSeconds(Clock.Now - start);
            var cpu1 = ProcStats.CpuSample.Take(c.ServerPid);
            int failed = failures.Values.Sum();
            long offered = n;
            double errorShare = offered == 0 ? 0 : (double)failed / offered;

            // The clients held through the storm: each must still answer a ping.
            int heldAlive = 0;
            foreach (var h in held)
            {
                try
                {
                    using var t = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await h.SendTextAsync("{\"action\": \"ping\"}", t.Token).ConfigureAwait(false);
                    if ((await h.ReceiveTextAsync(t.Token).ConfigureAwait(false)).Contains("pong", StringComparison.Ordinal)) heldAlive++;
                }
                catch (Exception)
                {
                    // counted as not alive
                }
            }

            double? serverCpu = cpu1.ServerCpu - cpu0.ServerCpu is double d ? 100 * d / Clock.ToSeconds(cpu1.Timestamp - cpu0.Timestamp) : null;
            string failText = failed == 0 ? "no failures" : string.Join(", ", failures.OrderByDescending(f => f.Value).Select(f => $"{f.Value} {f.Key}"));
            Common.Log(string.Create(inv, $"step {step}: offered {rate:0}/s ({offered} in {o.StepSeconds:0.#} s), completed {ok / wall:0}/s, {failed} failed ({100 * errorShare:0.##} %): {failText}; connect→authenticated p50 {histogram.Percentile(50) / 1000.0:0.0} ms, p99 {histogram.Percentile(99) / 1000.0:0.0} ms, max {histogram.Max / 1000.0:0.0} ms; peak pending {peakInFlight}; server CPU {serverCpu:0} %; held clients answering {heldAlive}/{held.Count}; load {ProcStats.LoadAverage1():0.0}"));
            string prefix = string.Create(inv, $"step{step}_");
            result.Add(prefix + "offered_per_s", rate, $"step {step} offered/s", "0", inTable: false);
            result.Add(prefix + "completed_per_s", ok / wall, $"step {step} completed/s", "0", inTable: false);
            result.Add(prefix + "failed", failed, $"step {step} failed", "0", inTable: false);
            result.Add(prefix + "p99_ms", histogram.Percentile(99) / 1000.0, $"step {step} p99 ms", "0.0", inTable: false);
            result.Add(prefix + "server_cpu_pct", serverCpu, $"step {step} server CPU %", "0", inTable: false);
            if (failed > 0) result.Notes.Add(string.Create(inv, $"step {step} ({rate:0}/s offered): {failText}"));
            if (heldAlive < held.Count) result.Notes.Add($"step {step}: only {heldAlive} of {held.Count} held clients answered a ping");

            if (errorShare > o.ErrorShare)
            {
                firstErrorRate = rate;
                stopReason = string.Create(inv, $"{100 * errorShare:0.#} % of attempts failed at {rate:0}/s offered");
            }
            else if (overrun)
            {
                firstErrorRate = rate;
                stopReason = string.Create(inv, $"more than {o.MaxInFlight} attempts pending at {rate:0}/s offered: the server no longer keeps up");
            }
            else
            {
                bestClean = Math.Max(bestClean, ok / wall);
                if (rate >= o.MaxRate) stopReason = $"reached --max-rate {o.MaxRate:0}/s";
                rate = Math.Min(o.MaxRate, rate * o.Factor);
            }
            if (heldAlive < held.Count) result.Ok = false;
        }
        result.Add("best_clean_connects_per_s", bestClean, "connections/s without errors", "0");
        result.Add("errors_from_offered_per_s", firstErrorRate, "errors from (offered/s)", "0");
        result.Add("held_clients", held.Count, "held clients", "0");
        result.Notes.Add($"stopped: {stopReason}");
        foreach (var m in c.ServerMemory())
        {
            result.Metrics.Add(m);
        }
        await Common.CloseAllAsync(held, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return result;
    }
}
