using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace OpenAlgo.Appliance.Bench;

/// <summary>
/// ZeroMQ tick publisher. Connects a PUB socket to the server's SUB endpoint and sends
/// two-frame messages [topic "EXCH_SYMBOL_MODE", JSON payload] round-robin over the universe,
/// rate-paced in batches: every ~1 ms (--batch-ms) it sends all ticks that are due by then
/// (Thread.Sleep between batches, no busy spin: the box has
/// two cores and the server needs them). Each payload carries "bench_ts" (Clock ticks at send).
/// Runs entirely on one dedicated thread (NetMQ sockets are single-threaded). With several
/// endpoints (one per site, --sites) the universe is split into contiguous parts of (nearly) equal
/// size, part k published on endpoint k by the same thread and pacing: each site gets about rate/N
/// ticks/s, and the harness's wake-ups stay those of one feeder.
/// </summary>
public sealed class Feeder
{
    private static readonly string[] ModeNames = ["", "LTP", "QUOTE", "DEPTH"];

    private readonly string[] _endpoints;
    private readonly int[] _siteOf;
    private readonly int _universe;
    private readonly int[] _subscribers;
    private readonly byte[][] _topics;
    private readonly byte[][] _middles;
    private readonly int[] _basePaise;
    private readonly byte[] _payload = new byte[16384];
    private long _seq;

    public long Sent;              // all timed (non-probe) ticks sent
    public long SentInWindow;      // ticks whose bench_ts is inside the window
    public long ExpectedInWindow;  // sum of subscriber counts of those ticks
    public long ProbesSent;
    public long SkippedTicks;      // ticks not sent because the feeder fell >100 ms behind
    public long MaxBatch;
    public int PayloadBytes;

    public int ThreadId { get; private set; } = -1;

    public double RequestedRate { get; }

    public long WindowStart { get; private set; }

    public long WindowEnd { get; private set; }

    public Exception? Failure { get; private set; }

    public TaskCompletionSource<bool> Probed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Feeder(string endpoint, string exchange, string symbolPrefix, int universe, int mode, int depthLevels, int[] subscribersPerSymbol, double rate)
        : this([endpoint], exchange, symbolPrefix, universe, mode, depthLevels, subscribersPerSymbol, rate)
    {
    }

    /// <param name="endpoints">One per site; symbol s goes to endpoint <see cref="PartOf"/>(s).</param>
    public Feeder(string[] endpoints, string exchange, string symbolPrefix, int universe, int mode, int depthLevels, int[] subscribersPerSymbol, double rate)
    {
        if (mode is < 1 or > 3)
        {
            throw new UsageException("--mode must be 1 (LTP), 2 (QUOTE) or 3 (DEPTH)");
        }
        _endpoints = endpoints;
        _siteOf = Enumerable.Range(0, universe).Select(i => PartOf(i, universe, endpoints.Length)).ToArray();
        _universe = universe;
        _subscribers = subscribersPerSymbol;
        RequestedRate = rate;
        _topics = new byte[universe][];
        _middles = new byte[universe][];
        _basePaise = new int[universe];
        for (int i = 0; i < universe; i++)
        {
            string sym = symbolPrefix + i.ToString(CultureInfo.InvariantCulture);
            _topics[i] = Encoding.UTF8.GetBytes($"{exchange}_{sym}_{ModeNames[mode]}");
            _basePaise[i] = 10_000 + ((i * 7919) % 300_000);
            _middles[i] = Encoding.UTF8.GetBytes(Middle(sym, exchange, mode, depthLevels, _basePaise[i]));
        }
        PayloadBytes = BuildPayload(0, 123_456_789_012, 1_746_171_226_000);
    }

    private static string Middle(string sym, string exchange, int mode, int depthLevels, int basePaise)
    {
        static string P(int paise) => (paise / 100).ToString(CultureInfo.InvariantCulture) + "." + (paise % 100).ToString("00", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        if (mode == 2)
        {
            sb.Append($", \"volume\": {123_456 + basePaise % 1000}, \"open\": {P(basePaise - 150)}, \"high\": {P(basePaise + 275)}")
              .Append($", \"low\": {P(basePaise - 310)}, \"close\": {P(basePaise - 25)}, \"last_quantity\": 25")
              .Append($", \"average_price\": {P(basePaise + 37)}, \"total_buy_quantity\": 45000, \"total_sell_quantity\": 52000");
        }
        else if (mode == 3)
        {
            sb.Append(", \"depth\": {\"buy\": [");
            for (int l = 0; l < depthLevels; l++)
            {
                sb.Append(l > 0 ? ", " : "").Append($"{{\"price\": {P(basePaise - 5 * (l + 1))}, \"quantity\": {100 * (l + 1)}, \"orders\": {l + 1}}}");
            }
            sb.Append("], \"sell\": [");
            for (int l = 0; l < depthLevels; l++)
            {
                sb.Append(l > 0 ? ", " : "").Append($"{{\"price\": {P(basePaise + 5 * (l + 1))}, \"quantity\": {120 * (l + 1)}, \"orders\": {l + 2}}}");
            }
            sb.Append("]}");
        }
        sb.Append($", \"symbol\": \"{sym}\", \"exchange\": \"{exchange}\", \"mode\": {mode}");
        return sb.ToString();
    }

    /// <summary>{"ltp": X, "ltt": MS, ...middle..., "timestamp": MS, "bench_ts": TS}</summary>
    private int BuildPayload(int sym, long benchTs, long unixMs)
    {
        Span<byte> b = _payload;
        int n = 0;
        Append(b, ref n, "{\"ltp\": "u8);
        int paise = _basePaise[sym] + (int)((_seq * 7) % 200) - 100;
        _seq++;
        AppendLong(b, ref n, paise / 100);
        b[n++] = (byte)'.';
        int frac = paise % 100;
        b[n++] = (byte)('0' + (frac / 10));
        b[n++] = (byte)('0' + (frac % 10));
        Append(b, ref n, ", \"ltt\": "u8);
        AppendLong(b, ref n, unixMs);
        Append(b, ref n, _middles[sym]);
        Append(b, ref n, ", \"timestamp\": "u8);
        AppendLong(b, ref n, unixMs);
        Append(b, ref n, ", \"bench_ts\": "u8);
        AppendLong(b, ref n, benchTs);
        b[n++] = (byte)'}';
        return n;
    }

    private static void Append(Span<byte> b, ref int n, ReadOnlySpan<byte> s)
    {
        s.CopyTo(b[n..]);
        n += s.Length;
    }

    private static void AppendLong(Span<byte> b, ref int n, long v)
    {
        Utf8Formatter.TryFormat(v, b[n..], out int w);
        n += w;
    }

    private void Send(PublisherSocket[] pubs, int sym, long benchTs, long unixMs)
    {
        int len = BuildPayload(sym, benchTs, unixMs);
        pubs[_siteOf[sym]].SendMoreFrame(_topics[sym]).SendFrame(_payload, len);
    }

    /// <summary>Where part <paramref name="part"/> of <paramref name="total"/> items split into <paramref name="parts"/> contiguous parts starts: ⌈part·total/parts⌉.</summary>
    public static int PartStart(int part, int total, int parts) => (int)(((long)part * total + parts - 1) / parts);

    /// <summary>The part item <paramref name="index"/> falls in (the inverse of <see cref="PartStart"/>).</summary>
    public static int PartOf(int index, int total, int parts) => (int)((long)index * parts / total);

    /// <summary>
    /// Thread body: connect, probe until <paramref name="totalReceived"/> moves (ZMQ slow joiner),
    /// then set the window [now+warmup, now+warmup+duration) and send paced ticks until its end.
    /// </summary>
    public void Run(double warmupSeconds, double durationSeconds, int batchMilliseconds, Func<long> totalReceived, TimeSpan probeTimeout, CancellationToken ct)
        => Run(warmupSeconds, durationSeconds, batchMilliseconds, _ => totalReceived(), probeTimeout, ct);

    /// <param name="receivedOnSite">Frames received so far by site k's clients: probing goes on until every site delivered one.</param>
    public void Run(double warmupSeconds, double durationSeconds, int batchMilliseconds, Func<int, long> receivedOnSite, TimeSpan probeTimeout, CancellationToken ct)
    {
        ThreadId = ProcStats.CurrentThreadId();
        var pubs = new PublisherSocket[_endpoints.Length];
        try
        {
            for (int i = 0; i < pubs.Length; i++)
            {
                pubs[i] = new PublisherSocket();
                pubs[i].Options.SendHighWatermark = 10_000_000;
                pubs[i].Options.Linger = TimeSpan.FromMilliseconds(500);
                pubs[i].Connect(_endpoints[i]);
            }

            long probeDeadline = Clock.Now + Clock.FromSeconds(probeTimeout.TotalSeconds);
            for (int site = 0; site < pubs.Length; site++)
            {
                int[] probeSymbols = Enumerable.Range(0, _universe).Where(i => _siteOf[i] == site && _subscribers[i] > 0).ToArray();
                if (probeSymbols.Length == 0)
                {
                    throw new InvalidOperationException(pubs.Length == 1 ? "no symbol has a subscriber" : $"no symbol of site {site + 1} has a subscriber");
                }
                long before = receivedOnSite(site);
                int k = 0;
                while (receivedOnSite(site) == before)
                {
                    if (Clock.Now > probeDeadline || ct.IsCancellationRequested)
                    {
                        Probed.TrySetResult(false);
                        return;
                    }
                    Send(pubs, probeSymbols[k++ % probeSymbols.Length], Clock.Now, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                    ProbesSent++;
                    Thread.Sleep(20);
                }
            }

            long start = Clock.Now;
            WindowStart = start + Clock.FromSeconds(warmupSeconds);
            WindowEnd = WindowStart + Clock.FromSeconds(durationSeconds);
            Window.Set(WindowStart, WindowEnd);
            Probed.TrySetResult(true);

            double perTick = RequestedRate / Stopwatch.Frequency;
            long maxCatchUp = Math.Max(1, (long)(RequestedRate * 0.1));
            long scheduled = 0;
            int sym = 0;
            while (!ct.IsCancellationRequested)
            {
                long now = Clock.Now;
                if (now >= WindowEnd)
                {
                    break;
                }
                long due = (long)((now - start) * perTick) - scheduled;
                if (due <= 0)
                {
                    Thread.Sleep(batchMilliseconds);
                    continue;
                }
                if (due > maxCatchUp)
                {
                    SkippedTicks += due - maxCatchUp;
                    scheduled += due - maxCatchUp;
                    due = maxCatchUp;
                }
                MaxBatch = Math.Max(MaxBatch, due);
                long unixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                for (long i = 0; i < due; i++)
                {
                    long ts = Clock.Now;
                    if (ts >= WindowEnd)
                    {
                        break;
                    }
                    Send(pubs, sym, ts, unixMs);
                    if (ts >= WindowStart)
                    {
                        SentInWindow++;
                        ExpectedInWindow += _subscribers[sym];
                    }
                    Sent++;
                    scheduled++;
                    if (++sym == _universe)
                    {
                        sym = 0;
                    }
                }
            }
        }
        catch (Exception e)
        {
            Failure = e;
            Probed.TrySetResult(false);
        }
        finally
        {
            foreach (var pub in pubs)
            {
                pub?.Dispose();
            }
            Finished.TrySetResult();
        }
    }
}
