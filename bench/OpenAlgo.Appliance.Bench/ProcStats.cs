using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace OpenAlgo.Appliance.Bench;

/// <summary>Reads CPU and memory figures of a process (or thread) from /proc.</summary>
public static partial class ProcStats
{
    private const int ScClkTck = 2;

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static readonly long ClockTicksPerSecond = InitClockTicks();

    private static long InitClockTicks()
    {
        try
        {
            long t = SysConf(ScClkTck);
            return t > 0 ? t : 100;
        }
        catch (Exception)
        {
            return 100;
        }
    }

    /// <summary>Kernel thread id of the calling thread (for /proc/self/task/TID).</summary>
    public static int CurrentThreadId()
    {
        try
        {
            return GetTid();
        }
        catch (Exception)
        {
            return -1;
        }
    }

    public static bool SendSignal(int pid, int signal) => Kill(pid, signal) == 0;

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && ReadState(pid) is not ('Z' or 'X' or null);

    private static char? ReadState(int pid)
    {
        string? stat = TryRead($"/proc/{pid}/stat");
        if (stat is null)
        {
            return null;
        }
        int close = stat.LastIndexOf(')');
        return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : null;
    }

    /// <summary>utime+stime of a process in seconds, or null if it cannot be read.</summary>
    public static double? CpuSeconds(int pid) => CpuSecondsFromStat($"/proc/{pid}/stat");

    public static double? SelfCpuSeconds() => CpuSecondsFromStat("/proc/self/stat");

    public static double? ThreadCpuSeconds(int tid) =>
        tid <= 0 ? null : CpuSecondsFromStat($"/proc/self/task/{tid}/stat");

    /// <summary>Summed CPU seconds of this process's live threads whose name (comm) matches.</summary>
    public static double? SelfThreadsCpuSeconds(Func<string, bool> nameMatches)
    {
        try
        {
            double sum = 0;
            foreach (string dir in Directory.GetDirectories("/proc/self/task"))
            {
                string? comm = TryRead(Path.Combine(dir, "comm"));
                if (comm is not null && nameMatches(comm.Trim()) && CpuSecondsFromStat(Path.Combine(dir, "stat")) is double c)
                {
                    sum += c;
                }
            }
            return sum;
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>The feeder side of the harness: the feeder thread and NetMQ's I/O and reaper threads.</summary>
    public static bool IsFeederThread(string comm) =>
        comm.StartsWith("bench-feeder", StringComparison.Ordinal)
        || comm.StartsWith("iothread", StringComparison.Ordinal)
        || comm.StartsWith("reaper", StringComparison.Ordinal);

    private static double? CpuSecondsFromStat(string path)
    {
        string? stat = TryRead(path);
        if (stat is null)
        {
            return null;
        }
        // The command name (field 2) may contain spaces; fields are counted after the last ')'.
        int close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        string[] f = stat[(close + 2)..].Split(' ');
        // f[0] = state (field 3); utime = field 14 -> f[11]; stime = field 15 -> f[12].
        if (f.Length < 13
            || !long.TryParse(f[11], NumberStyles.Integer, CultureInfo.InvariantCulture, out long utime)
            || !long.TryParse(f[12], NumberStyles.Integer, CultureInfo.InvariantCulture, out long stime))
        {
            return null;
        }
        return (utime + stime) / (double)ClockTicksPerSecond;
    }

    /// <summary>A "Key:   123 kB" line of /proc/PID/status, in kB (or a plain count, e.g. Threads).</summary>
    public static long? StatusValue(int pid, string key) => StatusValueFrom($"/proc/{pid}/status", key);

    /// <summary>
    /// Context switches of every thread of <paramref name="pid"/> (voluntary + involuntary, summed over
    /// /proc/PID/task/*/status: the process's own status counts its main thread only), or null. Threads
    /// that ended in between are not counted, so sample over a window in which the server keeps its threads.
    /// </summary>
    public static long? ContextSwitches(int pid)
    {
        try
        {
            long total = 0;
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                total += (StatusValueFrom(Path.Combine(task, "status"), "voluntary_ctxt_switches") ?? 0)
                    + (StatusValueFrom(Path.Combine(task, "status"), "nonvoluntary_ctxt_switches") ?? 0);
            }
            return total;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static long? SelfStatusValue(string key) => StatusValueFrom("/proc/self/status", key);

    private static long? StatusValueFrom(string path, string key)
    {
        string? text = TryRead(path);
        if (text is null)
        {
            return null;
        }
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.Length > key.Length && line[key.Length] == ':')
            {
                string rest = line[(key.Length + 1)..].Trim();
                int sp = rest.IndexOf(' ');
                if (sp > 0)
                {
                    rest = rest[..sp];
                }
                return long.TryParse(rest, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null;
            }
        }
        return null;
    }

    /// <summary>Number of open file descriptors of a process.</summary>
    public static int? OpenFds(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// Busy CPU seconds of the whole machine (all cores) from the first line of /proc/stat:
    /// user + nice + system + irq + softirq + steal. Minus the measured processes over the same
    /// interval this is the foreign load that disturbed a run.
    /// </summary>
    public static double? MachineBusySeconds()
    {
        string? text = TryRead("/proc/stat");
        if (text is null || !text.StartsWith("cpu ", StringComparison.Ordinal))
        {
            return null;
        }
        string[] f = text[..text.IndexOf('\n', StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // f[0] = "cpu", then user nice system idle iowait irq softirq steal ...
        if (f.Length < 9)
        {
            return null;
        }
        long busy = 0;
        foreach (int i in new[] { 1, 2, 3, 6, 7, 8 })
        {
            if (!long.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
            {
                return null;
            }
            busy += v;
        }
        return busy / (double)ClockTicksPerSecond;
    }

    /// <summary>1-minute load average (/proc/loadavg).</summary>
    public static double? LoadAverage1()
    {
        string? text = TryRead("/proc/loadavg");
        return text is not null && double.TryParse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
    }

    /// <summary>
    /// ESTABLISHED TCP connections whose local port is <paramref name="port"/> (/proc/net/tcp and tcp6
    /// of this network namespace), i.e. the connections a server listening on that port has accepted.
    /// </summary>
    public static int? EstablishedOnLocalPort(int port)
    {
        int count = 0;
        bool any = false;
        foreach (string path in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            string? text = TryRead(path);
            if (text is null)
            {
                continue;
            }
            any = true;
            foreach (string line in text.Split('\n').Skip(1))
            {
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 4 || f[3] != "01")
                {
                    continue;
                }
                int colon = f[1].LastIndexOf(':');
                if (colon > 0 && int.TryParse(f[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int local) && local == port)
                {
                    count++;
                }
            }
        }
        return any ? count : null;
    }

    /// <summary>Snapshot of server + harness CPU counters at one instant.</summary>
    public readonly record struct CpuSample(long Timestamp, double? ServerCpu, double? SelfCpu, double? FeederCpu, long AllocatedBytes, int Gen0, int Gen2)
    {
        public static CpuSample Take(int? serverPid) => new(
            Clock.Now,
            serverPid is int p ? CpuSeconds(p) : null,
            SelfCpuSeconds(),
            SelfThreadsCpuSeconds(IsFeederThread),
            GC.GetTotalAllocatedBytes(precise: false),
            GC.CollectionCount(0),
            GC.CollectionCount(2));
    }
}
