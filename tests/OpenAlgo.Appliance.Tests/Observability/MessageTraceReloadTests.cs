using System.Security.Cryptography;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// <c>systemctl reload</c> (SIGHUP) turns the message trace on and off in the running executable,
/// with the operator's configuration file as written; connected clients are traced from then on.
/// </summary>
public sealed class MessageTraceReloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-trace-reload-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static string Config(string key, int internalPort, bool traced) => $$"""
        {
          "Appliance": {
            "Listen": { "Internal": "127.0.0.1:{{internalPort}}" },
            "MarketData": { "Source": "Simulated" },
            "Auth": { "StaticKeys": [ { "Key": "{{key}}", "UserId": "trader1", "Broker": "zerodha" } ] },
            "Limits": { "PingIntervalSeconds": 0 },
            "Logging": { "MessageTrace": { "Enabled": {{(traced ? "true" : "false")}}, "Users": [ "trader1" ], "TickSampleEvery": 1 } }
          }
        }
        """;

    [Fact]
    public async Task Sighup_turns_the_trace_on_for_connected_clients_and_off_again()
    {
        string key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        int internalPort = TestAppliance.FreeTcpPort();
        string config = Path.Combine(_dir, "appsettings.json");
        string logs = Path.Combine(_dir, "logs");
        File.WriteAllText(config, Config(key, internalPort, traced: false));
        using var notify = new NotifySocket(@abstract: true);
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["Appliance__Listen__Https"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__StateDirectory"] = Path.Combine(_dir, "state"),
            ["Appliance__LogsDirectory"] = logs,
        };
        using var appliance = ApplianceProcess.Start(_dir, env, "run", "--config", config);
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
        await using var client = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{internalPort}/"));
        await client.AuthenticateAsync(key);
        await client.AskAsync("{\"action\": \"ping\", \"_pingId\": \"before\"}");
        Assert.Empty(Directory.GetFiles(logs, "message-trace-*.log"));

        // On: the client connected before the reload is traced from its next message.
        File.WriteAllText(config, Config(key, internalPort, traced: true));
        await ReloadAsync(appliance, notify);
        await client.AskAsync("{\"action\": \"ping\", \"_pingId\": \"during\"}");
        await client.AskAsync(TestSites.Subscribe("RELIANCE", 2));
        await client.ReceiveAsync(TimeSpan.FromSeconds(10)); // a simulated Quote tick
        string on = await MessageTraceTests.WaitForTraceAsync(logs, "tick NSE:RELIANCE mode 2 simulated to client");
        Assert.Contains("message trace on: sites all, users trader1, addresses all, every tick, at most 1048576 bytes a minute", on);
        Assert.Matches(@"\[default\] from client \d+ \(trader1, 127\.0\.0\.1, internal\): \{""action"": ""ping"", ""_pingId"": ""during""\}", on);
        Assert.Matches(@"\[default\] to client \d+ \(trader1, 127\.0\.0\.1, internal\): \{""type"": ""subscribe"", ""status"": ""success""", on);
        Assert.DoesNotContain("before", on);
        string serviceLog = string.Concat(Directory.GetFiles(logs, "openalgo-appliance-*.log").Select(MessageTraceTests.ReadShared));
        Assert.Contains($"Message trace on (sites all, users trader1, addresses all, every tick, at most 1048576 bytes a minute): writing {Path.Combine(logs, "message-trace-YYYYMMDD.log")}", serviceLog);

        // Off: nothing more, and the file says so.
        File.WriteAllText(config, Config(key, internalPort, traced: false));
        await ReloadAsync(appliance, notify);
        await MessageTraceTests.WaitForTraceAsync(logs, "message trace off");
        await client.AskAsync("{\"action\": \"ping\", \"_pingId\": \"after\"}");
        await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"" + key + "\"}");
        await Task.Delay(500);
        string off = MessageTraceTests.ReadTrace(logs);
        Assert.DoesNotContain("after", off);
        Assert.EndsWith("message trace off\n", off);

        appliance.Terminate();
        int exit = await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, $"exit {exit}\n{appliance.Stdout}\n{appliance.Stderr}");
        MessageTraceTests.AssertNowhere(logs, key);
    }

    private static async Task ReloadAsync(ApplianceProcess appliance, NotifySocket notify)
    {
        notify.Clear();
        appliance.Hangup();
        Assert.Contains("STATUS=configuration reloaded", await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60)));
    }
}
