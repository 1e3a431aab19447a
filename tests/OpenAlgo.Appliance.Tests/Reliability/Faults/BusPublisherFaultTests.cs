using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// The ZeroMQ publisher (a broker adapter: pyzmq on libzmq, in its own process) killed with SIGKILL
/// mid-stream and started again, five times (docs/reliability.md, "ZeroMQ publisher killed"): the
/// clients stay connected, each new publisher's ticks reach them in order, and the recovery time —
/// restart to first tick at the client, ZeroMQ's reconnect and slow joiner included — is recorded.
/// </summary>
public sealed partial class BusPublisherFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_publisher_killed_mid_stream_and_restarted_five_times_reaches_the_same_clients_again()
    {
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(services: log.Register);
        var clients = new List<WsTestClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var client = await WsTestClient.ConnectAsync(i == 0 ? appliance.PublicUri : appliance.InternalUri);
                await client.AuthenticateAsync();
                await client.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"KILLME\", \"exchange\": \"NSE\", \"mode\": 1}");
                clients.Add(client);
            }
            var recoveries = new List<TimeSpan>();
            for (int round = 0; round < 5; round++)
            {
                int first = round * 1_000_000;
                var started = Stopwatch.StartNew();
                using var publisher = StartPublisher(appliance.ZmqEndpoint, first);
                try
                {
                    // Every client gets this publisher's ticks, in order (the first ones may be lost to the slow joiner).
                    var seen = new List<int>();
                    foreach (var client in clients)
                    {
                        int previous = -1;
                        for (int n = 0; n < 50; n++)
                        {
                            int seq = Seq(await client.ReceiveAsync(TimeSpan.FromSeconds(30)));
                            if (seq < first) continue; // the previous publisher's last ticks, still in flight
                            if (previous < 0 && client == clients[0]) recoveries.Add(started.Elapsed);
                            Assert.True(previous < 0 || seq == previous + 1, $"round {round}: {seq} after {previous}");
                            previous = seq;
                        }
                        seen.Add(previous);
                    }
                }
                finally
                {
                    publisher.Kill(entireProcessTree: true); // SIGKILL, mid-stream
                    publisher.WaitForExit(10_000);
                }
            }
            output.WriteLine("restart → first tick at the client: " + string.Join(", ", recoveries.Select(r => $"{r.TotalMilliseconds:0} ms")));
            Assert.Equal(3, appliance.Hub.ClientCount);
            foreach (var client in clients) Assert.Contains("\"type\": \"pong\"", await AskPingAsync(client));
            Assert.True(log.Problems.Count == 0, string.Join("\n", log.Problems.Take(5)));
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    private static async Task<string> AskPingAsync(WsTestClient client)
    {
        await client.SendAsync("{\"action\": \"ping\"}");
        while (true)
        {
            string message = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
            if (!message.Contains("market_data", StringComparison.Ordinal)) return message;
        }
    }

    private static int Seq(string message)
    {
        var match = SeqField().Match(message);
        Assert.True(match.Success, message);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("\"seq\": (\\d+)")]
    private static partial Regex SeqField();

    private static Process StartPublisher(string endpoint, int first) => StartPublisher(endpoint, "NSE_KILLME_LTP", first, 200);

    /// <summary>streaming_publisher.py: numbered ticks on <paramref name="topic"/> from <paramref name="first"/>, <paramref name="rate"/> a second, until killed.</summary>
    internal static Process StartPublisher(string endpoint, string topic, int first, int rate)
    {
        var start = new ProcessStartInfo(Python.Interpreter) { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Reliability", "Faults", "streaming_publisher.py"));
        foreach (string arg in new[] { endpoint, topic, first.ToString(CultureInfo.InvariantCulture), rate.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }
}
