using OpenAlgo.Appliance.Fuzzing;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability;

/// <summary>
/// The CI-bounded form of the protocol fuzz (docs/reliability.md; the long form is
/// <c>openalgo-bench fuzz</c> against the native executable): generated client traffic, valid and
/// hostile, thrown at <c>/ws</c> over TLS and at the internal listener of a running appliance while
/// a well-behaved client receives ticks from the bus.
/// </summary>
public sealed class ProtocolFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Fuzzed_frames_on_both_doors_get_spec_answers_and_a_quiet_client_keeps_every_tick()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int fixedSeed) ? fixedSeed : Random.Shared.Next(1_000_000);
        var logs = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(services: logs.Register);

        await using var quiet = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await quiet.AuthenticateAsync();
        await quiet.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"QUIET\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(quiet, "NSE_QUIET_LTP", "{\"ltp\": 1.0, \"seq\": -1}");

        // Ticks flow for the whole run; the quiet client must get each one, in order.
        using var stop = new CancellationTokenSource();
        int published = 0;
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                bus.Publish("NSE_QUIET_LTP", $"{{\"ltp\": 1.5, \"seq\": {published}}}");
                published++;
                await Task.Delay(10, CancellationToken.None);
            }
        });
        int received = 0;
        using var done = new CancellationTokenSource();
        var receiving = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                string message;
                try
                {
                    message = await quiet.ReceiveAsync(TimeSpan.FromSeconds(1));
                }
                catch (TimeoutException)
                {
                    continue;
                }
                if (message.Contains("\"seq\": -1}", StringComparison.Ordinal)) continue;
                Assert.Contains($"\"seq\": {received}}}", message);
                Volatile.Write(ref received, received + 1);
            }
        });

        var targets = new[] { FuzzTarget.Plain("internal", appliance.Internal.Port), FuzzTarget.Tls("wss", appliance.Https.Port) };
        var tally = await FuzzRun.RunAsync(targets, new FuzzSettings("testkey"), frames: 20_000, workers: 6, seed,
            deadline: TimeSpan.FromMinutes(8), answerTimeout: TimeSpan.FromSeconds(60));
        output.WriteLine($"seed {seed}\n{tally.Summary()}");

        await stop.CancelAsync();
        await publishing;
        await Eventually.TrueAsync(() => Volatile.Read(ref received) == published || receiving.IsCompleted, "every tick at the quiet client", TimeSpan.FromSeconds(60));
        await done.CancelAsync();
        await receiving; // rethrows an out-of-order tick
        Assert.True(tally.Failures == 0, $"seed {seed} (replay: FUZZ_SEED={seed})\n{tally.Summary()}");
        Assert.True(tally.Frames >= 20_000, tally.Summary());
        Assert.Equal(published, received);

        // Nothing leaked: every fuzzing connection is gone from the hub, the quiet one is still served.
        await Eventually.TrueAsync(() => appliance.Hub.ClientCount == 1, "fuzzing sessions released", TimeSpan.FromSeconds(60));
        Assert.Contains("\"type\": \"pong\"", await quiet.AskAsync("{\"action\": \"ping\"}"));
        Assert.True(logs.Problems.Count == 0, string.Join("\n", logs.Problems.Take(5)));
    }
}
