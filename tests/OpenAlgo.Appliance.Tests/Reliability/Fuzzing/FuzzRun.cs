using System.Net.Security;
using System.Net.Sockets;

namespace OpenAlgo.Appliance.Fuzzing;

/// <summary>A door to fuzz: how to open a connection to it (TLS done) and what to put in the handshake.</summary>
internal sealed record FuzzTarget(string Name, string Host, string Path, Func<CancellationToken, Task<Stream>> ConnectAsync)
{
    /// <summary>Plain TCP to 127.0.0.1:<paramref name="port"/> (the internal listener).</summary>
    public static FuzzTarget Plain(string name, int port, string path = "/") =>
        new(name, $"127.0.0.1:{port}", path, async ct =>
        {
            var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync("127.0.0.1", port, ct);
            return tcp.GetStream();
        });

    /// <summary>TLS to 127.0.0.1:<paramref name="port"/> (the HTTPS listener's <c>/ws</c>), any certificate accepted.</summary>
    public static FuzzTarget Tls(string name, int port, string path = "/ws") =>
        new(name, $"127.0.0.1:{port}", path, async ct =>
        {
            var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync("127.0.0.1", port, ct);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", ApplicationProtocols = [SslApplicationProtocol.Http11] }, ct);
            return ssl;
        });
}

/// <summary>
/// Runs <paramref name="workers"/> fuzzing connections at a time over the targets (round robin)
/// until <paramref name="frames"/> frames have been sent or <paramref name="deadline"/> passes.
/// Worker <c>i</c> uses seed <c>seed + i</c>, so a failing run can be replayed.
/// </summary>
internal static class FuzzRun
{
    public static async Task<FuzzTally> RunAsync(IReadOnlyList<FuzzTarget> targets, FuzzSettings settings, long frames, int workers, int seed, TimeSpan deadline, TimeSpan answerTimeout, FuzzTally? tally = null, CancellationToken cancellationToken = default)
    {
        tally ??= new FuzzTally();
        var until = DateTime.UtcNow + deadline;
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            var generator = new FrameGenerator(random, settings);
            int round = 0;
            while (tally.Frames < frames && DateTime.UtcNow < until && !cancellationToken.IsCancellationRequested)
            {
                var target = targets[(w + round++) % targets.Count];
                Stream stream;
                try
                {
                    using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    cts.CancelAfter(answerTimeout);
                    stream = await target.ConnectAsync(cts.Token);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
                {
                    if (cancellationToken.IsCancellationRequested) break;
                    tally.HandshakeFailed($"{target.Name}: connect: {ex.GetType().Name}: {ex.Message}");
                    await Task.Delay(200, CancellationToken.None);
                    continue;
                }
                int budget = random.Next(4) == 0 ? random.Next(1, 10) : random.Next(10, 300);
                await FuzzConnection.RunAsync(stream, target.Host, target.Path, generator, random, tally, budget, answerTimeout, $"{target.Name} (seed {seed + w})");
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(tasks);
        return tally;
    }
}
