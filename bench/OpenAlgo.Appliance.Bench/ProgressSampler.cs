using System.Globalization;

namespace OpenAlgo.Appliance.Bench;

/// <summary>
/// The server's CPU and RSS, the clients still connected and the rates, every --sample-seconds during a
/// throughput run: logged, written as TSV to --samples FILE when given, and summed up in the result
/// (first, peak and last RSS; mean and peak CPU) — what a long hold shows over time.
/// </summary>
internal sealed class ProgressSampler
{
    private readonly string? _file;
    private readonly int? _pid;
    private readonly long _start = Clock.Now;
    private readonly List<(double Rss, double Cpu)> _rows = [];
    private readonly Lock _gate = new();

    public ProgressSampler(string? file, int? pid)
    {
        _file = file;
        _pid = pid;
        if (file is not null)
        {
            File.WriteAllText(file, "elapsed_s\tsent_per_s\treceived_per_s\tserver_cpu_pct\tserver_rss_mb\tserver_threads\tserver_fds\tclients_open\tclients\tslow_received\tloadavg_1m\n");
        }
    }

    public void Add(ProcStats.CpuSample now, ProcStats.CpuSample last, double sentPerSecond, double receivedPerSecond, int open, int clients, long slowReceived)
    {
        var inv = CultureInfo.InvariantCulture;
        double elapsed = Clock.ToSeconds(now.Timestamp - _start);
        double wall = Clock.ToSeconds(now.Timestamp - last.Timestamp);
        double? cpu = now.ServerCpu - last.ServerCpu is double d && wall > 0 ? 100 * d / wall : null;
        double? rss = _pid is int p ? ProcStats.StatusValue(p, "VmRSS") / 1024.0 : null;
        long? threads = _pid is int q ? ProcStats.StatusValue(q, "Threads") : null;
        int? fds = _pid is int r ? ProcStats.OpenFds(r) : null;
        double? load = ProcStats.LoadAverage1();
        Common.Log(string.Create(inv, $"  {elapsed,6:0}s sent {sentPerSecond:0}/s, received {receivedPerSecond:0}/s; server CPU {cpu:0.0} %, RSS {rss:0.0} MB; {open}/{clients} clients open; load {load:0.00}"));
        lock (_gate)
        {
            if (rss is double m && cpu is double u)
            {
                _rows.Add((m, u));
            }
            if (_file is not null)
            {
                File.AppendAllText(_file, string.Create(inv, $"{elapsed:0.0}\t{sentPerSecond:0}\t{receivedPerSecond:0}\t{cpu:0.0}\t{rss:0.0}\t{threads}\t{fds}\t{open}\t{clients}\t{slowReceived}\t{load:0.00}\n"));
            }
        }
    }

    public void Finish(RunResult result)
    {
        lock (_gate)
        {
            if (_rows.Count == 0)
            {
                return;
            }
            result.Add("samples", _rows.Count, "samples", "0", inTable: false);
            result.Add("sampled_rss_first_mb", _rows[0].Rss, "RSS first MB", "0.0", inTable: false);
            result.Add("sampled_rss_peak_mb", _rows.Max(x => x.Rss), "RSS peak MB", "0.0", inTable: false);
            result.Add("sampled_rss_last_mb", _rows[^1].Rss, "RSS last MB", "0.0", inTable: false);
            result.Add("sampled_cpu_mean_pct", _rows.Average(x => x.Cpu), "CPU mean %", "0.0", inTable: false);
            result.Add("sampled_cpu_peak_pct", _rows.Max(x => x.Cpu), "CPU peak %", "0.0", inTable: false);
        }
    }
}
