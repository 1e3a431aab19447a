using System.Numerics;

namespace OpenAlgo.Appliance.Bench;

/// <summary>
/// Log-linear histogram (HdrHistogram layout, 2 significant decimal digits):
/// values 0..255 get their own bucket, above that each power of two is split
/// into 128 linear sub-buckets, so the relative error is at most 1/128 (0.8%).
/// Unit is whatever the caller records (microseconds here). Preallocated;
/// Record never allocates and is safe to call from several threads at once.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 8;
    private const int SubBucketCount = 1 << SubBucketBits;      // 256
    private const int HalfCount = SubBucketCount / 2;           // 128
    private const int MaxShift = 33;                            // values up to 2^41 (~25 days in µs)
    private const long MaxTrackable = (1L << (MaxShift + SubBucketBits)) - 1;

    private readonly long[] _counts = new long[(MaxShift + 2) * HalfCount];
    private long _max;
    private long _min = long.MaxValue;

    public long TotalCount
    {
        get
        {
            long n = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                n += Volatile.Read(ref _counts[i]);
            }
            return n;
        }
    }

    public long Max => Volatile.Read(ref _max);

    public long Min => TotalCount == 0 ? 0 : Volatile.Read(ref _min);

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }
        else if (value > MaxTrackable)
        {
            value = MaxTrackable;
        }

        Interlocked.Increment(ref _counts[IndexOf(value)]);

        long seen = Volatile.Read(ref _max);
        while (value > seen)
        {
            long prev = Interlocked.CompareExchange(ref _max, value, seen);
            if (prev == seen)
            {
                break;
            }
            seen = prev;
        }

        seen = Volatile.Read(ref _min);
        while (value < seen)
        {
            long prev = Interlocked.CompareExchange(ref _min, value, seen);
            if (prev == seen)
            {
                break;
            }
            seen = prev;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
        if (other.TotalCount > 0)
        {
            _max = Math.Max(_max, other._max);
            _min = Math.Min(_min, other._min);
        }
    }

    /// <summary>
    /// Value at the given percentile (0..100), reported as the highest value
    /// equivalent to the bucket that holds it (conservative), clamped to the
    /// exact maximum. Returns 0 for an empty histogram.
    /// </summary>
    public long Percentile(double percentile)
    {
        long total = TotalCount;
        if (total == 0)
        {
            return 0;
        }
        long target = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * total);
        if (target < 1)
        {
            target = 1;
        }
        long cumulative = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            cumulative += _counts[i];
            if (cumulative >= target)
            {
                return Math.Min(HighestEquivalent(i), _max);
            }
        }
        return _max;
    }

    /// <summary>Mean, using bucket midpoints.</summary>
    public double Mean()
    {
        long total = 0;
        double sum = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            long c = _counts[i];
            if (c == 0)
            {
                continue;
            }
            total += c;
            sum += c * ((LowestEquivalent(i) + HighestEquivalent(i)) / 2.0);
        }
        return total == 0 ? 0 : sum / total;
    }

    internal static int IndexOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int shift = msb - (SubBucketBits - 1);
        // (value >> shift) is in [128, 256); buckets for shift s occupy [(s+1)*128, (s+2)*128).
        return (shift * HalfCount) + (int)(value >> shift);
    }

    internal static long LowestEquivalent(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }
        int shift = (index / HalfCount) - 1;
        long sub = index - (shift * HalfCount);
        return sub << shift;
    }

    internal static long HighestEquivalent(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }
        int shift = (index / HalfCount) - 1;
        return LowestEquivalent(index) + (1L << shift) - 1;
    }
}
