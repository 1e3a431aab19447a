using System.Numerics;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// A cumulative log-linear histogram of durations (4 buckets per doubling from 1 µs, ≤ 19 % wide,
/// HdrHistogram's layout at low precision), filled from the meter's measurements and read as
/// percentiles over the difference of two snapshots — the status page's p50/p99 per second.
/// Lock-free: one interlocked increment per measurement.
/// </summary>
internal sealed class LatencyBuckets
{
    /// <summary>1 µs · 2^(i/4): bucket 107 ends past 100 s.</summary>
    public const int Count = 108;

    private readonly long[] _counts = new long[Count];

    public void Add(double seconds)
    {
        double micros = seconds * 1e6;
        Interlocked.Increment(ref _counts[Index(micros)]);
    }

    public static int Index(double micros)
    {
        if (!(micros >= 1)) return 0;
        if (micros >= 1e8) return Count - 1;
        ulong v = (ulong)micros;
        int log = BitOperations.Log2(v);
        // Two bits below the leading one pick the quarter of the doubling.
        int sub = log >= 2 ? (int)((v >> (log - 2)) & 3) : (int)((v << (2 - log)) & 3);
        return Math.Min(Count - 1, log * 4 + sub);
    }

    /// <summary>The upper edge of bucket <paramref name="index"/>, in seconds.</summary>
    public static double UpperSeconds(int index)
    {
        int log = index / 4, sub = index % 4;
        return Math.Pow(2, log) * (1 + (sub + 1) / 4.0) / 1e6;
    }

    public long[] Snapshot()
    {
        var copy = new long[Count];
        for (int i = 0; i < Count; i++) copy[i] = Interlocked.Read(ref _counts[i]);
        return copy;
    }

    /// <summary>The <paramref name="quantile"/> of what was added between two snapshots (bucket upper edge, seconds); null when nothing was.</summary>
    public static double? Quantile(long[] before, long[] after, double quantile)
    {
        long total = 0;
        for (int i = 0; i < Count; i++) total += after[i] - before[i];
        if (total <= 0) return null;
        long rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (int i = 0; i < Count; i++)
        {
            seen += after[i] - before[i];
            if (seen >= rank) return UpperSeconds(i);
        }
        return UpperSeconds(Count - 1);
    }
}
