using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting;

public sealed class VerifyCommandTests
{
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
