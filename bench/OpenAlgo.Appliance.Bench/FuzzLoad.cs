using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenAlgo.Appliance.Fuzzing;

namespace OpenAlgo.Appliance.Bench;

/// <summary>What the fuzzer process sent and found, as it reports it on its last stdout line.</summary>
public sealed record FuzzOutcome(
    long Frames,
    long Cases,
    long Connections,
    long Failures,
    string Summary,
    long HttpRequests,
    long HttpFailures,
    string HttpStatuses,
    List<string> HttpSamples,
    double? CpuSeconds,
    string? Error);

/// <summary>
/// The fuzzer of <see cref="FuzzScenario"/> in a child process (<c>openalgo-bench fuzz-load</c>):
/// frames until the budget is spent, HTTP mutations alongside until then; one JSON line at the end.
/// </summary>
public sealed class FuzzLoad
{
    private const string Marker = "FUZZ-OUTCOME ";

    private readonly Process _process;
    private readonly Task<string> _stdout;

    private FuzzLoad(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
    }

    public static FuzzLoad Start(string apiKey, FuzzOptions o)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        // dotnet openalgo-bench.dll …, or the apphost itself.
        string self = Environment.GetCommandLineArgs()[0];
        if (self.EndsWith(".dll", StringComparison.Ordinal))
        {
            psi.ArgumentList.Add(self);
        }
        foreach (string arg in new[]
        {
            "fuzz-load", "--api-key", apiKey, "--frames", o.Frames.ToString(CultureInfo.InvariantCulture),
            "--workers", o.Workers.ToString(CultureInfo.InvariantCulture), "--seed", o.Seed.ToString(CultureInfo.InvariantCulture),
            "--fuzz-seconds", o.MaxFuzzSeconds.ToString(CultureInfo.InvariantCulture),
            "--invalid-key-share", o.InvalidKeyShare.ToString(CultureInfo.InvariantCulture),
            "--http-concurrency", o.HttpConcurrency.ToString(CultureInfo.InvariantCulture),
            "--https-listen", o.HttpsListen, "--internal-listen", o.InternalListen,
        })
        {
            psi.ArgumentList.Add(arg);
        }
        return new FuzzLoad(Process.Start(psi) ?? throw new InvalidOperationException("could not start the fuzzer process"));
    }

    public async Task<FuzzOutcome> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        double? cpu = null;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            while (!_process.HasExited)
            {
                cpu = ProcStats.CpuSeconds(_process.Id) ?? cpu;
                await Task.Delay(500, cts.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            return Failed($"did not finish within {timeout}", cpu);
        }
        string output = await _stdout.ConfigureAwait(false);
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        if (line is null)
        {
            return Failed($"exited with {_process.ExitCode} without an outcome", cpu);
        }
        var outcome = JsonSerializer.Deserialize<FuzzOutcome>(line[Marker.Length..])!;
        return outcome with { CpuSeconds = cpu };
    }

    private static FuzzOutcome Failed(string why, double? cpu) => new(0, 0, 0, 0, "", 0, 0, "", [], cpu, why);

    /// <summary>The child's side: runs the fuzzer and prints the outcome.</summary>
    public static async Task<int> RunAsync(string apiKey, FuzzOptions o, CancellationToken ct)
    {
        var https = new Uri("tcp://" + o.HttpsListen);
        var @internal = new Uri("tcp://" + o.InternalListen);
        var targets = new[] { FuzzTarget.Plain("internal", @internal.Port), FuzzTarget.Tls("wss", https.Port) };
        var settings = new FuzzSettings(apiKey) { InvalidKeyShare = o.InvalidKeyShare };
        var tally = new FuzzTally();
        var http = new FuzzScenario.HttpTally();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var httpTask = FuzzScenario.HttpMutationsAsync(https.Port, @internal.Port, o.Seed, o.HttpConcurrency, http, done.Token);
        using var progress = new Timer(_ => Common.Log($"fuzzer: {tally.Frames:N0} frames, {tally.Connections:N0} connections, {tally.Failures} failures; HTTP {http.Requests:N0} requests, {http.Failures} failures"),
            null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        await FuzzRun.RunAsync(targets, settings, o.Frames, o.Workers, o.Seed, TimeSpan.FromSeconds(o.MaxFuzzSeconds), TimeSpan.FromSeconds(60), tally, ct).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        await httpTask.ConfigureAwait(false);
        var outcome = new FuzzOutcome(tally.Frames, tally.Cases, tally.Connections, tally.Failures, tally.Summary(),
            http.Requests, http.Failures, http.Describe(), http.Samples, null, null);
        Console.Out.WriteLine(Marker + JsonSerializer.Serialize(outcome));
        await Console.Out.FlushAsync(ct).ConfigureAwait(false);
        return 0;
    }
}
