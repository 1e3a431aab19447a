using System.Net.WebSockets;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>
/// The log an operator follows (journal, log file): one line per market-data disconnect with the
/// client id, door, user, address, how long it stayed, and why — through the executable, as `demo`.
/// </summary>
public sealed partial class DisconnectLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-disconnect-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex(@"INF Client (\d+) \((wss|internal), user ([^,]+), 127\.0\.0\.1\) disconnected after (\d+\.\d) s: (.*)$", RegexOptions.Multiline)]
    private static partial Regex DisconnectLine();

    [Fact]
    public async Task Each_disconnect_is_one_line_with_client_door_user_duration_and_reason()
    {
        int https = TestAppliance.FreeTcpPort(), @internal = TestAppliance.FreeTcpPort();
        var env = new Dictionary<string, string>
        {
            ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{@internal}",
            ["Appliance__Limits__AuthGraceSeconds"] = "1",
        };
        using var demo = ApplianceProcess.Start(_dir, env, "demo");
        string key = (await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(60)))["Demo API key: ".Length..];

        // 1. wss, authenticated, the client closes with a code and a reason (a newline in it must not forge a log line).
        using (var client = new ClientWebSocket())
        {
            client.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync(new Uri($"wss://127.0.0.1:{https}/ws"), CancellationToken.None);
            await client.SendAsync(System.Text.Encoding.UTF8.GetBytes($"{{\"action\": \"authenticate\", \"api_key\": \"{key}\"}}"), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[4096];
            await client.ReceiveAsync(buffer, CancellationToken.None);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye\nINF forged", CancellationToken.None);
        }
        var closedByClient = await NextDisconnectAsync(demo, 1);
        Assert.Equal(("wss", "demo"), (closedByClient.Groups[2].Value, closedByClient.Groups[3].Value));
        Assert.Equal("closed by the client with 1000 (\"bye\\u000aINF forged\")", closedByClient.Groups[5].Value);

        // 2. internal door, never authenticates: closed by the appliance after Limits:AuthGraceSeconds.
        using (var silent = new ClientWebSocket())
        {
            await silent.ConnectAsync(new Uri($"ws://127.0.0.1:{@internal}/"), CancellationToken.None);
            var timedOut = await NextDisconnectAsync(demo, 2);
            Assert.Equal(("internal", "-"), (timedOut.Groups[2].Value, timedOut.Groups[3].Value));
            Assert.Equal("closed by the appliance with 4401 (no authenticate within 1 s, Limits:AuthGraceSeconds)", timedOut.Groups[5].Value);
            Assert.True(double.Parse(timedOut.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1.0, timedOut.Value);
        }

        // 3. The client vanishes without a close frame.
        using (var dropped = new ClientWebSocket())
        {
            await dropped.ConnectAsync(new Uri($"ws://127.0.0.1:{@internal}/"), CancellationToken.None);
            dropped.Abort();
        }
        var vanished = await NextDisconnectAsync(demo, 3);
        Assert.Equal("internal", vanished.Groups[2].Value);
        Assert.Equal("connection dropped by the client without a close frame", vanished.Groups[5].Value);

        // Exactly one line per disconnect: the reason is not repeated by a second line.
        Assert.Equal(3, DisconnectLine().Matches(demo.Stdout).Count);
        Assert.DoesNotContain("did not authenticate within", demo.Stdout);
        Assert.DoesNotContain("\nINF forged", demo.Stdout);
    }

    private static async Task<Match> NextDisconnectAsync(ApplianceProcess demo, int count)
    {
        MatchCollection? matches = null;
        await Eventually.TrueAsync(() => (matches = DisconnectLine().Matches(demo.Stdout)).Count >= count, $"disconnect line {count}; stdout:\n{demo.Stdout}", TimeSpan.FromSeconds(20));
        return matches![count - 1];
    }
}
