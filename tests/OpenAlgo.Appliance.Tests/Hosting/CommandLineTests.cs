using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary>The executable as a newcomer runs it: demo mode end to end, config errors, version, SIGTERM.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static Dictionary<string, string> Ports() => new()
    {
        ["Appliance__Listen__Https"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
        ["Appliance__Listen__Http"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
        ["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
    };

    [Fact]
    public async Task Demo_prints_a_key_that_streams_simulated_ticks_and_keeps_it_across_restarts_and_exits_0_on_sigterm()
    {
        var env = Ports();
        string key;
        using (var demo = ApplianceProcess.Start(_dir, env, "demo"))
        {
            string line = await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(30));
            key = line["Demo API key: ".Length..];
            Assert.Matches("^[0-9a-f]{64}$", key);
            string httpsPort = env["Appliance__Listen__Https"].Split(':')[1];
            // The ready line names what was bound; nothing here came from systemd.
            string ready = demo.Stdout.Split('\n').Single(l => l.Contains(" ready: ", StringComparison.Ordinal));
            Assert.Contains($" ready: https {env["Appliance__Listen__Https"]}, http {env["Appliance__Listen__Http"]}, internal {env["Appliance__Listen__Internal"]}; market data from Simulated", ready);
            Assert.DoesNotContain("systemd", ready);
            // The ready line replaces ASP.NET's start-up chatter.
            Assert.DoesNotContain("Hosting environment:", demo.Stdout);
            Assert.DoesNotContain("Content root path:", demo.Stdout);
            Assert.DoesNotContain("Now listening on:", demo.Stdout);
            await using (var client = await WsTestClient.ConnectAsync(new Uri($"wss://127.0.0.1:{httpsPort}/ws")))
            {
                Assert.Equal(
                    "{\"type\": \"auth\", \"status\": \"success\", \"message\": \"Authentication successful\", \"broker\": \"demo\", \"user_id\": \"demo\", \"supported_features\": {\"ltp\": true, \"quote\": true, \"depth\": true}}",
                    await client.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{key}\"}}"));
                await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 2}");
                Assert.StartsWith("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 2, \"data\": {\"ltp\": ", await client.ReceiveAsync(TimeSpan.FromSeconds(10)));
                // SIGTERM: clients are told the server is going away (1001), then the process exits 0.
                demo.Terminate();
                Assert.Equal(1001, (await client.ReceiveCloseAsync(TimeSpan.FromSeconds(10))).Code);
            }
            Assert.Equal(0, await demo.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            Assert.True(File.Exists(Path.Combine(_dir, "state", "demo-api-key")));
            Assert.Equal(Convert.ToInt32("600", 8), (int)File.GetUnixFileMode(Path.Combine(_dir, "state", "demo-api-key")));
            Assert.True(Directory.EnumerateFiles(Path.Combine(_dir, "logs"), "openalgo-appliance-*.log").Any());
            Assert.DoesNotContain(key, File.ReadAllText(Directory.EnumerateFiles(Path.Combine(_dir, "logs")).First()));
        }
        using var again = ApplianceProcess.Start(_dir, Ports(), "demo");
        Assert.Equal($"Demo API key: {key}", await again.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Configuration_errors_exit_1_naming_every_bad_key()
    {
        var env = new Dictionary<string, string>
        {
            ["Appliance__Limits__MaxClients"] = "0",
            ["Appliance__Listen__Internal"] = "localhost",
        };
        using var run = ApplianceProcess.Start(_dir, env, "run");
        Assert.Equal(1, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Appliance:Limits:MaxClients: 0 is not a positive number. Fix:", run.Stderr);
        Assert.Contains("Appliance:Listen:Internal: 'localhost' is not host:port. Fix:", run.Stderr);
    }

    [Fact]
    public async Task A_busy_port_exits_1_naming_the_listener()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var env = Ports();
        // Only the internal listener may fail here: the others take any free port.
        env["Appliance__Listen__Https"] = "127.0.0.1:0";
        env["Appliance__Listen__Http"] = "127.0.0.1:0";
        env["Appliance__Listen__Internal"] = $"127.0.0.1:{((System.Net.IPEndPoint)blocker.LocalEndpoint).Port}";
        using var run = ApplianceProcess.Start(_dir, env, "demo");
        Assert.Equal(1, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        string address = env["Appliance__Listen__Internal"];
        // One line naming the key and the fix; no stack trace (not even in the log output before it).
        Assert.Equal(
            $"Appliance:Listen:Internal: cannot listen on {address}: Failed to bind to address http://{address}: address already in use. Fix: stop whatever listens there (OpenAlgo's own proxy uses 8765) or choose another port.",
            run.Stderr.Trim());
        Assert.DoesNotContain("   at ", run.Stdout);
        Assert.DoesNotContain("Hosting failed to start", run.Stdout);
    }

    [Theory]
    [InlineData("StateDirectory", "demo")]
    [InlineData("StateDirectory", "run")]
    [InlineData("LogsDirectory", "demo")]
    public async Task A_state_or_logs_directory_that_cannot_be_created_exits_1_naming_the_key_and_the_fix(string key, string command)
    {
        // A file where a directory must be (root, as CI runs, passes every permission check, so a
        // read-only directory cannot stand in; the operator's message is the same code path).
        string blocker = Path.Combine(_dir, "not-a-directory");
        File.WriteAllText(blocker, "");
        var env = Ports();
        env[$"Appliance__{key}"] = Path.Combine(blocker, "dir");
        env["Appliance__Tls__Mode"] = "SelfSigned";
        env["Appliance__Tls__Domains__0"] = "localhost";
        using var run = ApplianceProcess.Start(_dir, env, command);
        Assert.Equal(1, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith($"Appliance:{key}: cannot create or write {Path.Combine(blocker, "dir")}", run.Stderr.Trim());
        Assert.Contains("Fix: make it writable by that user", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
        Assert.DoesNotContain("Unhandled exception", run.Stdout + run.Stderr);
    }

    [Fact]
    public async Task Values_of_the_wrong_type_are_all_reported_in_one_run()
    {
        string config = Path.Combine(_dir, "wrong-types.json");
        File.WriteAllText(config, """
            {
              "Appliance": {
                "Limits": {
                  "MaxClients": "lots",
                  "PingIntervalSeconds": "often"
                },
                "Proxy": { "RequireSessionForSocketIo": "maybe" }
              }
            }
            """);
        using var run = ApplianceProcess.Start(_dir, Ports(), "run", "--config", config);
        Assert.Equal(1, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"Appliance:Limits:MaxClients: 'lots' is not a whole number. Fix: write a number such as 1000, without quotes or units. (set in {config}, line 4)", run.Stderr);
        Assert.Contains($"Appliance:Limits:PingIntervalSeconds: 'often' is not a number. Fix: write a number such as 20 or 0.5, without quotes or units. (set in {config}, line 5)", run.Stderr);
        Assert.Contains($"Appliance:Proxy:RequireSessionForSocketIo: 'maybe' is not true or false. Fix: write true or false. (set in {config}, line 7)", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    public async Task A_JSON_syntax_error_names_the_file_line_and_column(string command)
    {
        string config = Path.Combine(_dir, "syntax.json");
        File.WriteAllText(config, """
            {
              "Appliance": {
                "Limits": { "MaxClients": 5 }
                "LogLevel": "Debug"
              }
            }
            """);
        using var run = ApplianceProcess.Start(_dir, Ports(), command, "--config", config);
        Assert.Equal(1, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"{config}, line 4, column 5: '\"' is invalid after a value. Expected either ',', '}}', or ']'. Fix: correct the JSON syntax there", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public async Task Missing_config_file_exits_1()
    {
        using var run = ApplianceProcess.Start(_dir, Ports(), "demo", "--config", "nope.json");
        Assert.Equal(1, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("--config: file", run.Stderr);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        using var run = ApplianceProcess.Start(_dir, new Dictionary<string, string>(), "--version");
        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Matches(new Regex(@"^\d+\.\d+\.\d+"), run.Stdout.Trim());
    }
}
