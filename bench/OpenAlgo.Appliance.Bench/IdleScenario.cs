using System.Net.WebSockets;

namespace OpenAlgo.Appliance.Bench;

public sealed record IdleOptions(int Clients, int SymbolsPerClient, int Universe, int Mode, double SettleSeconds, double HoldSeconds, int ReceiveBufferBytes, int ReadBufferBytes);

/// <summary>
/// Memory cost of idle connections: server RSS with 0 clients, then C authenticated (optionally
/// subscribed, but never ticked) connections held for a while, then RSS again after they close.
/// </summary>
public static class IdleScenario
{
    public static async Task<RunResult> RunAsync(Common c, IdleOptions o, CancellationToken ct)
    {
        string label = c.Label ?? $"idle {c.Transport} {o.Clients}c" + (o.SymbolsPerClient > 0 ? $" x {o.SymbolsPerClient}s" : "");
        var result = new RunResult("idle", label);
        if (!await c.EnsureServerAsync(needZmq: false).ConfigureAwait(false))
        {
            result.Ok = false;
            result.Notes.Add("server not reachable (see log above)");
            return result;
        }
        if (c.ServerPid is null)
        {
            result.Notes.Add("no --server-pid / --server-binary: server memory and CPU not measured");
        }

        await Task.Delay(TimeSpan.FromSeconds(o.SettleSeconds), ct).ConfigureAwait(false);
        var baseline = c.ServerMemory("server0");
        double? rss0 = baseline.FirstOrDefault(m => m.Key == "server0_rss_mb")?.Value;
        result.Add("server_rss_0_mb", rss0, "RSS 0 clients MB", "0.0");

        Common.Log($"{label}: opening {o.Clients} connections to {c.Url} ...");
        using var factory = new ClientFactory(c.RawClient, o.ReadBufferBytes, c.Deflate);
        var connect = await c.ConnectAllAsync(
            factory,
            o.Clients,
            i => new BenchClient(i, o.ReceiveBufferBytes, histogram: null),
            async (client, token) =>
            {
                if (o.SymbolsPerClient > 0)
                {
                    var symbols = Enumerable.Range(0, o.SymbolsPerClient).Select(j => (int)(((long)client.Index * o.SymbolsPerClient + j) % o.Universe)).ToArray();
                    await client.SubscribeAsync(symbols.Select(c.SymbolName).ToList(), c.Exchange, o.Mode, 5, 250, token).ConfigureAwait(false);
                    client.Symbols = symbols;
                }
            },
            ct).ConfigureAwait(false);
        var clients = connect.Clients;
        Common.Log($"{clients.Count} connections up in {connect.Seconds:0.0}s ({connect.Failed} failed); settling {o.SettleSeconds}s, holding {o.HoldSeconds}s");
        result.Add("clients_requested", o.Clients, "requested", "0", inTable: false);
        result.Add("clients", clients.Count, "connected", "0");
        result.Add("clients_failed", connect.Failed, "failed", "0", inTable: connect.Failed > 0);
        result.Add("connect_per_s", clients.Count / connect.Seconds, "connect+auth/s", "0");
        if (connect.FirstError is not null)
        {
            result.Notes.Add($"{connect.Failed} connections failed; first: {connect.FirstError}");
        }

        await Task.Delay(TimeSpan.FromSeconds(o.SettleSeconds), ct).ConfigureAwait(false);
        var s0 = ProcStats.CpuSample.Take(c.ServerPid);
        await Task.Delay(TimeSpan.FromSeconds(o.HoldSeconds), ct).ConfigureAwait(false);
        var s1 = ProcStats.CpuSample.Take(c.ServerPid);
        var loaded = c.ServerMemory();
        double? rss = loaded.FirstOrDefault(m => m.Key == "server_rss_mb")?.Value;
        result.Add("server_rss_mb", rss, "RSS loaded MB", "0.0");
        result.Add("server_rss_per_conn_kb", rss is double a && rss0 is double b && clients.Count > 0 ? (a - b) * 1024 / clients.Count : null, "KB/conn", "0.0");
        foreach (var m in loaded.Where(m => m.Key != "server_rss_mb"))
        {
            result.Metrics.Add(m);
        }
        double wall = Clock.ToSeconds(s1.Timestamp - s0.Timestamp);
        if (s0.ServerCpu is double sc0 && s1.ServerCpu is double sc1)
        {
            result.Add("server_idle_cpu_pct", 100 * (sc1 - sc0) / wall, "idle CPU %", "0.00");
        }
        result.Add("load_rss_mb", ProcStats.SelfStatusValue("VmRSS") / 1024.0, "load RSS MB", "0.0", inTable: false);

        int dropped = clients.Count(x => x.LoopEnded || x.Socket.State != WebSocketState.Open);
        long frames = clients.Sum(x => Volatile.Read(ref x.Received));
        result.Add("dropped_during_hold", dropped, "dropped", "0");
        result.Add("frames_received_idle", frames, "frames while idle", "0", inTable: false);
        if (dropped > 0)
        {
            var d = clients.First(x => x.LoopEnded || x.Socket.State != WebSocketState.Open);
            result.Notes.Add($"{dropped} connections closed while idle; e.g. client {d.Index}: state={d.Socket.State} close={d.CloseStatus ?? "-"} error={d.Error ?? "-"}");
        }
        var other = clients.FirstOrDefault(x => x.FirstOther is not null);
        if (other is not null)
        {
            result.Notes.Add($"frames arrived on idle connections, e.g.: {BenchClient.Truncate(other.FirstOther!, 300)}");
        }

        Common.Log("closing connections ...");
        await Common.CloseAllAsync(clients, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(o.SettleSeconds), ct).ConfigureAwait(false);
        var after = c.ServerMemory("server_after");
        result.Add("server_rss_after_close_mb", after.FirstOrDefault(m => m.Key == "server_after_rss_mb")?.Value, "RSS after close MB", "0.0");
        result.Add("server_fds_after_close", after.FirstOrDefault(m => m.Key == "server_after_fds")?.Value, "server fds after close", "0", inTable: false);
        if (clients.Count == 0)
        {
            result.Ok = false;
        }
        return result;
    }
}
