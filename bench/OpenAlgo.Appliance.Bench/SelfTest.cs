using System.Text;

namespace OpenAlgo.Appliance.Bench;

/// <summary>Offline checks of the pieces whose bugs would silently skew results.</summary>
public static class SelfTest
{
    public static int Run()
    {
        int failures = 0;
        void Check(bool ok, string what)
        {
            Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
            if (!ok)
            {
                failures++;
            }
        }

        // Bucket layout is contiguous and monotonic.
        bool contiguous = true;
        for (long v = 0; v < 1 << 20; v++)
        {
            int i = LatencyHistogram.IndexOf(v);
            if (v < LatencyHistogram.LowestEquivalent(i) || v > LatencyHistogram.HighestEquivalent(i))
            {
                contiguous = false;
                break;
            }
        }
        Check(contiguous, "every value falls inside its bucket's [lowest, highest] range");

        // Percentiles within 1% of the exact order statistic.
        var rng = new Random(42);
        var values = new long[200_000];
        var h = new LatencyHistogram();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (long)Math.Exp(rng.NextDouble() * 14); // 1 µs .. ~1.2 s, log-uniform
            h.Record(values[i]);
        }
        Array.Sort(values);
        foreach (double p in new[] { 50, 90, 99, 99.9, 100 })
        {
            long exact = values[Math.Max(0, (int)Math.Ceiling(p / 100 * values.Length) - 1)];
            long got = h.Percentile(p);
            Check(got >= exact && got <= exact + Math.Max(1, exact / 100), $"p{p}: histogram {got} vs exact {exact}");
        }
        Check(h.Max == values[^1] && h.TotalCount == values.Length, "max and count are exact");

        // Merge.
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        a.Record(10);
        b.Record(1000);
        a.Add(b);
        Check(a.TotalCount == 2 && a.Max == 1000 && a.Min == 10, "merge keeps count, min, max");

        // The bench_ts scanner, with the server's ", "/": " separators and without spaces.
        Window.Set(100, 200);
        var client = new BenchClient(0, 4096, new LatencyHistogram());
        foreach (string frame in new[]
        {
            "{\"type\": \"market_data\", \"data\": {\"ltp\": 1.5, \"bench_ts\": 150}, \"broker\": \"b\"}",
            "{\"type\":\"market_data\",\"data\":{\"bench_ts\":199}}",
            "{\"data\": {\"bench_ts\": 150.0}}",
            "{\"data\": {\"bench_ts\": 50}}",
            "{\"data\": {\"bench_ts\": 250}}",
            "{\"type\": \"error\", \"message\": \"x\"}",
        })
        {
            client.Feed(Encoding.UTF8.GetBytes(frame), 1000);
        }
        Check(client.InWindow == 3 && client.PreWindow == 1 && client.PostWindow == 1 && client.Other == 1 && client.FloatTimestamps == 1,
            $"scanner classifies frames (in {client.InWindow}, pre {client.PreWindow}, post {client.PostWindow}, other {client.Other}, float {client.FloatTimestamps})");
        Window.Set(long.MaxValue, long.MaxValue);

        Console.WriteLine(failures == 0 ? "selftest passed" : $"selftest: {failures} failure(s)");
        return failures == 0 ? 0 : 1;
    }
}
