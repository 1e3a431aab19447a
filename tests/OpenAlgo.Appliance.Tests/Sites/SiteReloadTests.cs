using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Sites;

/// <summary>
/// <c>systemctl reload</c> (SIGHUP) with sites, through the real executable: a site added, a site
/// removed, a site changed in place — and the clients of the site nobody touched stay connected.
/// </summary>
public sealed class SiteReloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-site-reload-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private sealed record SitePorts(string Name, int Internal, int Zmq);

    private static string Site(SitePorts site, string key, int maxClients = 100) => $$"""
        "{{site.Name}}": {
          "Tls": { "Domains": ["{{site.Name}}.test"] },
          "Listen": { "Internal": "127.0.0.1:{{site.Internal}}" },
          "MarketData": { "Source": "Zmq", "ZmqEndpoint": "tcp://127.0.0.1:{{site.Zmq}}" },
          "Auth": { "StaticKeys": [ { "Key": "{{key}}", "UserId": "{{site.Name}}-user", "Broker": "fakebroker" } ] },
          "Limits": { "MaxClients": {{maxClients}} }
        }
        """;

    private static string Config(params string[] sites) => $$"""
        { "Appliance": { "Limits": { "PingIntervalSeconds": 0 }, "Sites": { {{string.Join(",\n", sites)}} } } }
        """;

    [Fact]
    public async Task A_reload_that_adds_one_site_and_removes_another_keeps_the_third_sites_clients_connected()
    {
        var alpha = new SitePorts("alpha", TestAppliance.FreeTcpPort(), TestAppliance.FreeTcpPort());
        var beta = new SitePorts("beta", TestAppliance.FreeTcpPort(), TestAppliance.FreeTcpPort());
        var gamma = new SitePorts("gamma", TestAppliance.FreeTcpPort(), TestAppliance.FreeTcpPort());
        string config = Path.Combine(_dir, "sites.json");
        File.WriteAllText(config, Config(Site(alpha, "alpha-key"), Site(beta, "beta-key")));
        using var notify = new NotifySocket(@abstract: true);
        int https = TestAppliance.FreeTcpPort();
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["Appliance__Listen__Https"] = $"127.0.0.1:{https}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__StateDirectory"] = Path.Combine(_dir, "state"),
            ["Appliance__LogsDirectory"] = Path.Combine(_dir, "logs"),
        };
        using var appliance = ApplianceProcess.Start(_dir, env, "run", "--config", config);
        string ready = await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
        Assert.Contains("site alpha: serving 0 market-data clients", ready);
        Assert.Contains("site beta: serving 0 market-data clients", ready);

        // Alpha's clients on both doors: its internal listener, and /ws on the shared HTTPS listener by its name.
        await using var alphaClient = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{alpha.Internal}/"));
        await alphaClient.AskAsync(TestSites.Authenticate("alpha-key"));
        await alphaClient.AskAsync(TestSites.Subscribe("SBIN"));
        using var dial = new HttpMessageInvoker(LoopbackNames.Handler());
        await using var alphaPublic = await WsTestClient.ConnectAsync(new Uri($"wss://alpha.test:{https}/ws"), dial);
        await alphaPublic.AskAsync(TestSites.Authenticate("alpha-key"));
        await alphaPublic.AskAsync(TestSites.Subscribe("SBIN"));
        await using var betaClient = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{beta.Internal}/"));
        Assert.Contains("beta-user", await betaClient.AskAsync(TestSites.Authenticate("beta-key")));
        using var alphaBus = new BusPublisher($"tcp://127.0.0.1:{alpha.Zmq}");
        await alphaBus.PublishUntilReceivedAsync(alphaClient, "NSE_SBIN_LTP", "{\"ltp\": 1}");
        await alphaBus.PublishUntilReceivedAsync(alphaPublic, "NSE_SBIN_LTP", "{\"ltp\": 1}");

        // Beta goes, gamma comes; alpha's lines are the same.
        File.WriteAllText(config, Config(Site(alpha, "alpha-key"), Site(gamma, "gamma-key")));
        Process.Start("kill", ["-HUP", appliance.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        string reloaded = await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
        Assert.Contains("STATUS=configuration reloaded", reloaded);

        // Beta's client was told the site is going away; its port is closed.
        Assert.Null(await betaClient.ReceiveMessageAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, betaClient.CloseStatus);
        using (var probe = new TcpClient())
        {
            await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", beta.Internal));
        }

        // Gamma serves with its own key.
        await using var gammaClient = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gamma.Internal}/"));
        Assert.Contains("gamma-user", await gammaClient.AskAsync(TestSites.Authenticate("gamma-key")));

        // Gamma's name reaches gamma over TLS now, beta's no longer reaches anyone.
        await using (var gammaPublic = await WsTestClient.ConnectAsync(new Uri($"wss://gamma.test:{https}/ws"), dial))
        {
            Assert.Contains("gamma-user", await gammaPublic.AskAsync(TestSites.Authenticate("gamma-key")));
        }
        Assert.NotNull((await LoopbackNames.HandshakeAsync(https, "beta.test")).Error);

        // Alpha's clients never noticed: same connections, still subscribed, ticks still flowing.
        Assert.Equal(WebSocketState.Open, alphaClient.State);
        Assert.Equal(WebSocketState.Open, alphaPublic.State);
        await DrainAsync(alphaClient);
        await DrainAsync(alphaPublic);
        alphaBus.Publish("NSE_SBIN_LTP", "{\"ltp\": 77}");
        Assert.Contains("\"ltp\": 77", await alphaClient.ReceiveAsync());
        Assert.Contains("\"ltp\": 77", await alphaPublic.ReceiveAsync());
        string log = File.ReadAllText(Directory.GetFiles(Path.Combine(_dir, "logs")).Single());
        Assert.Contains("Configuration reloaded: added gamma; removed beta\n", log.Replace("\r", ""));

        appliance.Terminate();
        Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_changed_site_is_rebuilt_alone_and_a_site_that_cannot_start_leaves_the_running_one_serving()
    {
        var alpha = new SitePorts("alpha", TestAppliance.FreeTcpPort(), TestAppliance.FreeTcpPort());
        var beta = new SitePorts("beta", TestAppliance.FreeTcpPort(), TestAppliance.FreeTcpPort());
        string config = Path.Combine(_dir, "sites.json");
        File.WriteAllText(config, Config(Site(alpha, "alpha-key"), Site(beta, "beta-key")));
        using var notify = new NotifySocket(@abstract: true);
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["Appliance__Listen__Https"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__StateDirectory"] = Path.Combine(_dir, "state"),
            ["Appliance__LogsDirectory"] = Path.Combine(_dir, "logs"),
        };
        using var appliance = ApplianceProcess.Start(_dir, env, "run", "--config", config);
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
        await using var alphaClient = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{alpha.Internal}/"));
        await alphaClient.AskAsync(TestSites.Authenticate("alpha-key"));

        // Beta moves to another bus endpoint: beta alone is rebuilt.
        var moved = beta with { Zmq = TestAppliance.FreeTcpPort() };
        File.WriteAllText(config, Config(Site(alpha, "alpha-key"), Site(moved, "beta-key")));
        Process.Start("kill", ["-HUP", appliance.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.Contains("STATUS=configuration reloaded", await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60)));
        await using var betaClient = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{beta.Internal}/"));
        await betaClient.AskAsync(TestSites.Authenticate("beta-key"));
        await betaClient.AskAsync(TestSites.Subscribe("TCS"));
        using (var movedBus = new BusPublisher($"tcp://127.0.0.1:{moved.Zmq}"))
        {
            await movedBus.PublishUntilReceivedAsync(betaClient, "NSE_TCS_LTP", "{\"ltp\": 5}");
        }
        Assert.Equal(WebSocketState.Open, alphaClient.State);

        // Beta's new bus endpoint is taken: the reload says so and the running beta keeps serving.
        using var squatter = new TcpListener(System.Net.IPAddress.Loopback, TestAppliance.FreeTcpPort());
        squatter.Start();
        int taken = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;
        File.WriteAllText(config, Config(Site(alpha, "alpha-key"), Site(moved with { Zmq = taken }, "beta-key")));
        Process.Start("kill", ["-HUP", appliance.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        string failed = await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
        Assert.Contains("site beta: Appliance:Sites:beta:MarketData:ZmqEndpoint: cannot bind", failed);
        await using var again = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{beta.Internal}/"));
        Assert.Contains("beta-user", await again.AskAsync(TestSites.Authenticate("beta-key")));
        Assert.Equal(WebSocketState.Open, alphaClient.State);

        // Alpha's limit changes (in place: its client stays) and two global keys a reload cannot
        // apply: named in the log, the running values kept.
        string global = """ "Listen": { "AdminAllowRemote": true }, "Tls": { "Acme": { "RenewCheckInterval": "00:20:00" } }, """;
        File.WriteAllText(config, Config(Site(alpha, "alpha-key", maxClients: 1), Site(moved, "beta-key")).Replace("{ \"Appliance\": {", "{ \"Appliance\": {" + global, StringComparison.Ordinal));
        Process.Start("kill", ["-HUP", appliance.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.Contains("STATUS=configuration reloaded", await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60)));
        await using (var second = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{alpha.Internal}/")))
        {
            Assert.Contains("LIMIT_EXCEEDED", await second.ReceiveAsync()); // alpha's one client is its new limit
        }
        Assert.Equal(WebSocketState.Open, alphaClient.State);
        string log = File.ReadAllText(Directory.GetFiles(Path.Combine(_dir, "logs")).Single()).Replace("\r", "");
        Assert.Contains("Configuration reloaded: rebuilt beta (MarketData:ZmqEndpoint)\n", log);
        Assert.Contains("Configuration reloaded: updated in place alpha (Limits:MaxClients)\n", log);
        Assert.Contains("Listen:AdminAllowRemote, Tls:Acme:RenewCheckInterval changed: a reload cannot apply this; it takes effect at the next restart (systemctl restart openalgo-appliance)", log);

        appliance.Terminate();
        Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task DrainAsync(WsTestClient client)
    {
        try
        {
            while (true) await client.ReceiveAsync(TimeSpan.FromMilliseconds(300));
        }
        catch (TimeoutException)
        {
        }
    }
}
