using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary><c>verify</c> in-process for the report, and through the executable as an operator types it.</summary>
public sealed class VerifyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-verify-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static Dictionary<string, string> Listeners(out int https, out int http)
    {
        https = TestAppliance.FreeTcpPort();
        http = TestAppliance.FreeTcpPort();
        return new()
        {
            ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
            ["Appliance__Listen__Http"] = $"127.0.0.1:{http}",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
        };
    }

    private static async Task WaitReadyAsync(ApplianceProcess appliance)
    {
        await Eventually.TrueAsync(() => appliance.Stdout.Contains(" ready: ", StringComparison.Ordinal) || appliance.HasExited, "the ready line", TimeSpan.FromSeconds(60));
        Assert.False(appliance.HasExited, appliance.Stdout + appliance.Stderr);
    }

    private async Task<ApplianceProcess> VerifyAsync(Dictionary<string, string>? environment, params string[] args)
    {
        var verify = ApplianceProcess.Start(_dir, environment ?? [], ["verify", .. args]);
        await verify.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return verify;
    }

    [Fact]
    public async Task Accepts_every_address_form_of_the_contract_and_explains_bad_ones()
    {
        var env = Listeners(out int https, out _);
        using var demo = ApplianceProcess.Start(_dir, env, "demo");
        await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(60));
        foreach (string address in new[] { $"127.0.0.1:{https}", $"localhost:{https}", $"https://localhost:{https}/", $"wss://127.0.0.1:{https}/ws" })
        {
            using var verify = await VerifyAsync(null, address);
            Assert.True(verify.ExitCode == 0, address + ":\n" + verify.Stdout + verify.Stderr);
            Assert.Contains($"PASS TLS handshake with {new Uri("https://" + address.Split("://")[^1]).Host}:{https}: Tls1", verify.Stdout);
            Assert.EndsWith("verify: OK", verify.Stdout.Trim());
        }

        // A bare host means port 443; nothing listens on this one, and that is the report (no stack trace).
        using (var bare = await VerifyAsync(null, "127.0.0.3"))
        {
            Assert.Equal(1, bare.ExitCode);
            Assert.StartsWith("FAIL TLS handshake with 127.0.0.3:443: Connection refused", bare.Stdout);
            Assert.Equal("", bare.Stderr);
        }
        using (var plain = await VerifyAsync(null, $"http://127.0.0.1:{https}/"))
        {
            Assert.Equal(1, plain.ExitCode);
            Assert.Equal($"verify: 'http://127.0.0.1:{https}/' is a plain http URL; verify checks the TLS side. Fix: give the HTTPS listener's address (Listen:Https), for example https://127.0.0.1/ or 127.0.0.1:8443 for the demo.", plain.Stderr.Trim());
        }
        using (var nonsense = await VerifyAsync(null, "not a host!"))
        {
            Assert.Equal(1, nonsense.ExitCode);
            Assert.Equal("verify: 'not a host!' is not an address. Fix: write https://HOST[:PORT]/, HOST:PORT or HOST (for example 127.0.0.1:8443 or trade.example.com).", nonsense.Stderr.Trim());
        }
    }

    [Fact]
    public async Task Pointed_at_the_HTTP_port_it_says_so_and_names_the_HTTPS_address()
    {
        var env = Listeners(out int https, out int http);
        using var demo = ApplianceProcess.Start(_dir, env, "demo");
        await demo.WaitForLineAsync("Demo API key: ", TimeSpan.FromSeconds(60));
        using var verify = await VerifyAsync(null, $"127.0.0.1:{http}");
        Assert.Equal(1, verify.ExitCode);
        Assert.StartsWith(
            $"FAIL TLS handshake with 127.0.0.1:{http}: this port speaks plain HTTP, not TLS (it answered \"HTTP/1.1 308 Permanent Redirect\", Location https://127.0.0.1:{https}/). Fix: verify the HTTPS listener it points to: openalgo-appliance verify https://127.0.0.1:{https}/.",
            verify.Stdout);
        Assert.DoesNotContain("corrupted frame", verify.Stdout);
    }

    /// <summary>
    /// verify sends websocket-client's Origin (http://HOST:PORT for wss://), so with a strict /ws
    /// Origin policy it fails exactly where the Python SDK fails — checked with websocket-client itself.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sends_the_Origin_the_Python_SDK_sends_and_fails_where_it_fails(bool strict)
    {
        var env = Listeners(out int https, out _);
        env["Appliance__Tls__Domains__0"] = "trade.example.test";
        env["Appliance__Security__CheckWsOrigin"] = strict ? "true" : "false";
        env["Appliance__StateDirectory"] = Path.Combine(_dir, "state");
        env["Appliance__LogsDirectory"] = Path.Combine(_dir, "logs");
        using var appliance = ApplianceProcess.Start(_dir, env, "run");
        await WaitReadyAsync(appliance);

        string sdk = Python.Run($$"""
            import ssl, websocket
            try:
                websocket.create_connection("wss://127.0.0.1:{{https}}/ws", sslopt={"cert_reqs": ssl.CERT_NONE}, timeout=10).close()
                print("connected")
            except websocket.WebSocketBadStatusException as e:
                print("refused", e.status_code)
            """).Trim();
        using var verify = await VerifyAsync(null, $"127.0.0.1:{https}");
        if (strict)
        {
            Assert.Equal("refused 403", sdk);
            Assert.Equal(1, verify.ExitCode);
            Assert.Contains($"FAIL WebSocket upgrade on wss://127.0.0.1:{https}/ws: 403 for Origin http://127.0.0.1:{https}, the Origin the OpenAlgo Python SDK (websocket-client) sends, so its clients are refused too. Fix: leave Security:CheckWsOrigin off", verify.Stdout);
        }
        else
        {
            Assert.Equal("connected", sdk);
            Assert.True(verify.ExitCode == 0, verify.Stdout);
            Assert.Contains($"PASS WebSocket upgrade on wss://127.0.0.1:{https}/ws (Origin: http://127.0.0.1:{https}, as the Python SDK sends)", verify.Stdout);
        }
    }

    [Fact]
    public async Task On_the_ACME_stand_in_it_says_issuance_is_failing_and_quotes_the_log()
    {
        var env = Listeners(out int https, out _);
        int closed = TestAppliance.FreeTcpPort(); // nothing listens: every ACME attempt fails at once
        env["Appliance__Tls__Mode"] = "Acme";
        env["Appliance__Tls__Domains__0"] = "trade.example.test";
        env["Appliance__Tls__Acme__DirectoryUrl"] = $"https://127.0.0.1:{closed}/directory";
        env["Appliance__Tls__Acme__Email"] = "ops@example.test";
        env["Appliance__Tls__Acme__AcceptTermsOfService"] = "true";
        using var appliance = ApplianceProcess.Start(_dir, env, "run");
        await WaitReadyAsync(appliance);
        await Eventually.TrueAsync(() => appliance.Stdout.Contains("ACME: attempt 1 failed", StringComparison.Ordinal), "the first failed ACME attempt", TimeSpan.FromSeconds(60));

        // Run where the service runs (same configuration, so verify finds its log directory).
        using var verify = await VerifyAsync(env, $"127.0.0.1:{https}");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("FAIL certificate for trade.example.test: the appliance's temporary self-signed stand-in, served since ", verify.Stdout);
        Assert.Contains("because no certificate has been issued yet (Tls:Mode=Acme): ACME issuance is failing. The log says: ACME: attempt 1 failed: ", verify.Stdout);
        Assert.Contains($"127.0.0.1:{closed}", verify.Stdout); // the reason itself: the CA is unreachable
        Assert.Contains($"journalctl -u openalgo-appliance -g 'ACME:' or {Path.Combine(_dir, "logs", "openalgo-appliance-*.log")}", verify.Stdout);
        Assert.DoesNotContain("renew now", verify.Stdout);
    }

    [Fact]
    public async Task Reports_tls_certificate_upgrade_auth_and_first_tick()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        using var stop = new CancellationTokenSource();
        var feeding = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                bus.Publish("NSE_SBIN_LTP", "{\"ltp\": 812.35}");
                await Task.Delay(50);
            }
        });
        var output = new StringWriter();
        int exit = await new VerifyCommand(output).RunAsync(new Uri($"https://localhost:{appliance.Https.Port}/"), "testkey", "NSE:SBIN", CancellationToken.None);
        stop.Cancel();
        await feeding;
        string report = output.ToString();
        Assert.True(exit == 0, report);
        Assert.Matches(@"PASS TLS handshake with localhost:\d+: Tls1[23]", report);
        Assert.Contains("WARN certificate for localhost", report);
        Assert.Contains("self-signed", report);
        Assert.Contains("days left", report);
        Assert.Contains("PASS WebSocket upgrade on wss://localhost:", report);
        Assert.Contains("PASS authenticate: {\"type\": \"auth\", \"status\": \"success\"", report);
        Assert.Contains("PASS first tick after", report);
        Assert.Contains("\"ltp\": 812.35", report);
        Assert.EndsWith("verify: OK" + Environment.NewLine, report);
    }

    [Fact]
    public async Task Fails_with_exit_1_on_a_bad_key_and_on_a_closed_port()
    {
        await using var appliance = await TestAppliance.StartAsync();
        var output = new StringWriter();
        Assert.Equal(1, await new VerifyCommand(output).RunAsync(new Uri($"https://127.0.0.1:{appliance.Https.Port}/"), "wrong", "NSE:SBIN", CancellationToken.None));
        Assert.Contains("FAIL authenticate: {\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}", output.ToString());

        var closed = new StringWriter();
        Assert.Equal(1, await new VerifyCommand(closed).RunAsync(new Uri($"https://127.0.0.1:{TestAppliance.FreeTcpPort()}/"), null, "NSE:SBIN", CancellationToken.None));
        Assert.StartsWith("FAIL TLS handshake with 127.0.0.1:", closed.ToString());
    }
}
