using System.Net;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

public sealed class UpstreamRecoveryTests
{
    [Fact]
    public async Task Upstream_down_gives_502_with_a_log_line_and_recovers_when_the_app_returns()
    {
        using var app = await FlaskApp.StartTcpAsync();
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o => o.Proxy.Upstream = app.Upstream, source: "Simulated", services: log.Register);
        using var https = FlaskProxyTests.Https(appliance);
        Assert.Equal("flask:/dashboard", await https.GetStringAsync("/dashboard"));

        app.Stop();
        for (int i = 0; i < 3; i++)
        {
            using var down = await https.GetAsync("/dashboard");
            Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
            Assert.Equal("text/plain; charset=utf-8", down.Content.Headers.ContentType!.ToString());
            Assert.StartsWith("502 Bad Gateway", await down.Content.ReadAsStringAsync());
        }
        Assert.True(log.Contains($"Flask app {app.Upstream} failed GET /dashboard"), string.Join('\n', log.Lines));

        // gunicorn is back (systemd's Restart=always): the next requests just work, no restart here.
        await app.StartAsync();
        HttpStatusCode status = 0;
        for (int i = 0; i < 50 && status != HttpStatusCode.OK; i++)
        {
            using var response = await https.GetAsync("/dashboard");
            status = response.StatusCode;
            if (status != HttpStatusCode.OK) await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("flask:/dashboard", await https.GetStringAsync("/dashboard"));
    }
}
