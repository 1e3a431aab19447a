using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using OpenAlgo.Appliance.MarketData.WebSockets;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Per-frame cost and size of the appliance's permessage-deflate compressor (MessageDeflater: a fresh
// raw-DEFLATE stream per message, as server_no_context_takeover needs) on the three tick shapes the
// bench feeder publishes, wrapped in the hub's market_data envelope. CPU is this thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID), so other work on a shared machine inflates it less than wall time;
// the levels run interleaved, round after round, and each figure is the median round.
//
//   dotnet run -c Release --project bench/deflate [-- ROUNDS [MESSAGES_PER_ROUND]]

int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
int perRound = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
int[] levels = [1, 2, 3, 4, 5, 6, 9];

Console.WriteLine($"# {rounds} rounds x {perRound} messages per level and shape; {Environment.ProcessorCount} CPUs; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
Console.WriteLine("| tick | plain frame B | level | compressed frame B | saved | CPU µs/frame (median) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, payload) in Ticks.All())
{
    int plainFrame = WebSocketFrames.HeaderLength(payload.Length) + payload.Length;
    var deflaters = levels.Select(l => new MessageDeflater(l)).ToArray();
    var samples = new double[levels.Length][];
    var sizes = new int[levels.Length];
    for (int l = 0; l < levels.Length; l++)
    {
        samples[l] = new double[rounds];
        for (int i = 0; i < 200; i++) sizes[l] = deflaters[l].BuildFrame(WebSocketFrames.OpText, payload)!.Length; // warm-up, JIT
    }
    for (int r = 0; r < rounds; r++)
    {
        for (int l = 0; l < levels.Length; l++)
        {
            double start = ThreadCpu.Microseconds();
            for (int i = 0; i < perRound; i++) deflaters[l].BuildFrame(WebSocketFrames.OpText, payload);
            samples[l][r] = (ThreadCpu.Microseconds() - start) / perRound;
        }
    }
    for (int l = 0; l < levels.Length; l++)
    {
        Array.Sort(samples[l]);
        Console.WriteLine($"| {name} | {plainFrame} | {levels[l]} | {sizes[l]} | {100.0 * (plainFrame - sizes[l]) / plainFrame:0} % | {samples[l][rounds / 2]:0.00} |");
    }
    Check(payload, deflaters[0]);
}

// The frame must inflate back to the message (what every client does).
static void Check(byte[] payload, MessageDeflater deflater)
{
    byte[] frame = deflater.BuildFrame(WebSocketFrames.OpText, payload)!;
    int header = WebSocketFrames.HeaderLengthOf(frame);
    using var input = new MemoryStream([.. frame.AsSpan(header), 0x00, 0x00, 0xFF, 0xFF]);
    using var inflate = new DeflateStream(input, CompressionMode.Decompress);
    var output = new MemoryStream();
    inflate.CopyTo(output);
    if (!output.ToArray().AsSpan().SequenceEqual(payload)) throw new InvalidOperationException("round trip failed");
}

/// <summary>The feeder's tick shapes (bench/OpenAlgo.Appliance.Bench/Feeder.cs) in the hub's envelope.</summary>
static class Ticks
{
    public static IEnumerable<(string Name, byte[] Payload)> All()
    {
        yield return ("LTP", Message(1, ""));
        yield return ("Quote", Message(2, ", \"volume\": 123789, \"open\": 1417.5, \"high\": 1421.75, \"low\": 1415.9, \"close\": 1418.75, \"last_quantity\": 25, \"average_price\": 1419.37, \"total_buy_quantity\": 45000, \"total_sell_quantity\": 52000"));
        var depth = new StringBuilder(", \"depth\": {\"buy\": [");
        for (int l = 0; l < 5; l++) depth.Append(l > 0 ? ", " : "").Append(CultureInfo.InvariantCulture, $"{{\"price\": {1419.0 - 0.05 * (l + 1):0.00}, \"quantity\": {100 * (l + 1)}, \"orders\": {l + 1}}}");
        depth.Append("], \"sell\": [");
        for (int l = 0; l < 5; l++) depth.Append(l > 0 ? ", " : "").Append(CultureInfo.InvariantCulture, $"{{\"price\": {1419.0 + 0.05 * (l + 1):0.00}, \"quantity\": {120 * (l + 1)}, \"orders\": {l + 2}}}");
        yield return ("Depth (5 levels)", Message(3, depth.Append("]}").ToString()));
    }

    private static byte[] Message(int mode, string middle) => Encoding.UTF8.GetBytes(
        $"{{\"type\": \"market_data\", \"symbol\": \"SYM417\", \"exchange\": \"NSE\", \"mode\": {mode}, \"data\": " +
        $"{{\"ltp\": 1419.03, \"ltt\": 1746171226000{middle}, \"symbol\": \"SYM417\", \"exchange\": \"NSE\", \"mode\": {mode}, \"timestamp\": 1746171226000, \"bench_ts\": 123456789012}}, \"broker\": \"benchbroker\"}}");
}

static unsafe class ThreadCpu
{
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, long* timespec);

    public static double Microseconds()
    {
        long* ts = stackalloc long[2];
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, ts);
        return ts[0] * 1e6 + ts[1] / 1e3;
    }
}
