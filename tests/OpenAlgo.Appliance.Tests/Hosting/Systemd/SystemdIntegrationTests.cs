using System.Diagnostics;
using System.Net.Sockets;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting.Systemd;

/// <summary>sd_notify against a socket the test binds, the watchdog, SIGHUP reload and socket activation.</summary>
public sealed class SystemdIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-systemd-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Dictionary<string, string> Environment(NotifySocket notify, out int internalPort)
    {
        internalPort = TestAppliance.FreeTcpPort();
        return new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["WATCHDOG_USEC"] = "2000000", // pets every second
            ["Appliance__Listen__Https"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{internalPort}",
            ["Appliance__Listen__Admin"] = "", // its default port would collide between tests running at once
            ["Appliance__MarketData__Source"] = "Zmq",
            ["Appliance__MarketData__ZmqEndpoint"] = $"tcp://127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["Appliance__Auth__StaticKeys__0__Key"] = "testkey",
            ["Appliance__Auth__StaticKeys__0__UserId"] = "testuser",
            ["Appliance__Auth__StaticKeys__0__Broker"] = "fakebroker",
            ["Appliance__StateDirectory"] = Path.Combine(_dir, "state"),
            ["Appliance__LogsDirectory"] = Path.Combine(_dir, "logs"),
        };
    }

    [Fact]
    public async Task Upstream_sessions_are_reported_in_STATUS_as_they_connect_and_drop()
    {
        using var notify = new NotifySocket(false);
        int upstreamPort = TestAppliance.FreeTcpPort();
        var env = Environment(notify, out int internalPort);
        env["Appliance__MarketData__Source"] = "OpenAlgo";
        env["Appliance__MarketData__OpenAlgoUpstreamUrl"] = $"ws://127.0.0.1:{upstreamPort}";
        env["Appliance__Auth__Mode"] = "Upstream";
        using var appliance = ApplianceProcess.Start(_dir, env, "run");
        Assert.Contains($"OpenAlgo proxy ws://127.0.0.1:{upstreamPort}/: 0 of 0 key sessions connected", await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(30)));

        var origin = await TestAppliance.StartAsync(o => o.Listen.Internal = $"127.0.0.1:{upstreamPort}");
        await using var client = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{internalPort}/"));
        await client.AuthenticateAsync();
        string connected = await notify.WaitForAsync("STATUS=proxy session key#", TimeSpan.FromSeconds(10));
        Assert.Contains("connected; serving 1 market-data clients", connected);
        Assert.DoesNotContain("testkey", connected);

        await origin.DisposeAsync();
        string lost;
        do lost = await notify.WaitForAsync("STATUS=proxy session key#", TimeSpan.FromSeconds(10));
        while (!lost.Contains(" lost (", StringComparison.Ordinal));
        Assert.Contains("reconnecting", lost);
        await client.DisposeAsync();
        appliance.Terminate();
        Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ready_after_listeners_bind_watchdog_reload_and_stopping(bool abstractSocket)
    {
        using var notify = new NotifySocket(abstractSocket);
        string config = Path.Combine(_dir, "extra.json");
        File.WriteAllText(config, """{"Appliance": {"Limits": {"MaxClients": 100}}}""");
        var env = Environment(notify, out int internalPort);
        using var appliance = ApplianceProcess.Start(_dir, env, "run", "--config", config);

        string ready = await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(30));
        Assert.Contains("STATUS=serving 0 market-data clients", ready);
        using (var probe = new TcpClient())
        {
            await probe.ConnectAsync("127.0.0.1", internalPort); // bound before READY
        }
        Assert.True(await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(3.5)) >= 2);

        // SIGHUP: a new limit applies without a restart.
        File.WriteAllText(config, """{"Appliance": {"Limits": {"MaxClients": 1}}}""");
        Process.Start("kill", ["-HUP", appliance.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        string reloading = await notify.WaitForAsync("RELOADING=1", TimeSpan.FromSeconds(10));
        Assert.Matches(@"MONOTONIC_USEC=\d+", reloading);
        Assert.Contains("STATUS=configuration reloaded", await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(10)));
        await using (var first = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{internalPort}/")))
        {
            await first.AuthenticateAsync(); // admitted before the second one connects
            await using var second = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{internalPort}/"));
            Assert.Contains("LIMIT_EXCEEDED", await second.ReceiveAsync());
        }

        // A broken configuration on reload is refused whole; the service keeps running.
        File.WriteAllText(config, """{"Appliance": {"Limits": {"MaxClients": -5}}}""");
        Process.Start("kill", ["-HUP", appliance.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.Contains("reload refused", await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(10)));
        Assert.False(appliance.HasExited);

        appliance.Terminate();
        await notify.WaitForAsync("STOPPING=1", TimeSpan.FromSeconds(10));
        Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        // run's console (the journal) and log file carry the ready line, not ASP.NET's start-up chatter.
        Assert.Contains(" ready: https 127.0.0.1:", appliance.Stdout);
        foreach (var noise in new[] { "Hosting environment:", "Content root path:", "Application started." })
        {
            Assert.DoesNotContain(noise, appliance.Stdout);
        }
    }

    [Fact]
    public async Task A_failed_acme_attempt_is_reported_in_STATUS_while_the_stand_in_certificate_is_served()
    {
        using var notify = new NotifySocket(@abstract: true);
        int closed = TestAppliance.FreeTcpPort(); // nothing listens: the CA is unreachable
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Tls.Mode = OpenAlgo.Appliance.Configuration.TlsMode.Acme;
            o.Tls.Domains = ["unreachable-ca.test"];
            o.Tls.Acme.DirectoryUrl = $"https://127.0.0.1:{closed}/dir";
            o.Tls.Acme.AcceptTermsOfService = true;
        }, services: s =>
        {
            s.AddSingleton(new SystemdSettings(notify.Address, TimeSpan.FromSeconds(1)));
            s.AddSingleton(new OpenAlgo.Appliance.Tls.Acme.AcmeSchedule(TimeSpan.FromSeconds(1), _ => TimeSpan.FromSeconds(30)));
        });
        string status = await notify.WaitForAsync("STATUS=certificate: ACME attempt 1 failed", TimeSpan.FromSeconds(20));
        Assert.Contains("serving a temporary self-signed certificate", status);
    }

    [Fact]
    public async Task Watchdog_covers_the_OpenAlgo_source_and_stops_while_a_relayed_tick_is_stuck_in_the_fan_out()
    {
        using var notify = new NotifySocket(@abstract: true);
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await TestAppliance.StartAsync(o => o.Listen.Internal = $"127.0.0.1:{port}");
        await using var front = await TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = OpenAlgo.Appliance.Configuration.AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{port}";
        }, source: "OpenAlgo", services: s =>
        {
            s.AddSingleton(new SystemdSettings(notify.Address, TimeSpan.FromSeconds(1)));
            s.AddSingleton(sp => new OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy.OpenAlgoProxySource(new Uri($"ws://127.0.0.1:{port}"),
                sp.GetRequiredService<OpenAlgo.Appliance.MarketData.Hub.MarketDataHub>(), sp.GetRequiredService<ILoggerFactory>()) { DispatchStallLimit = TimeSpan.FromSeconds(1) });
        });
        await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 1}");
        using var bus = new BusPublisher(origin.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(client, "NSE_SBIN_LTP", "{\"ltp\": 1}");
        Assert.True(await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(3.5)) >= 2);

        // Hold the front client's queue lock: the key session's receive loop blocks inside the fan-out.
        var session = front.Hub.Sessions.Single();
        using var release = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (session.Outbox.Gate.EnterScope())
            {
                held.Set();
                release.Wait();
            }
        });
        holder.Start();
        held.Wait();
        bus.Publish("NSE_SBIN_LTP", "{\"ltp\": 2}");
        await Task.Delay(3500); // the stall limit (1 s) plus the first check after it, which may still see earlier progress
        notify.Clear();
        int pets = await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(3.5));
        Assert.True(pets == 0, $"pets {pets} while the relayed tick is stuck");

        release.Set();
        holder.Join();
        Assert.True(await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(5)) >= 1);
    }

    [Fact]
    public async Task Watchdog_stops_while_the_bus_loop_is_wedged_and_resumes_after()
    {
        using var notify = new NotifySocket(@abstract: true);
        await using var appliance = await TestAppliance.StartAsync(services: s => s.AddSingleton(new SystemdSettings(notify.Address, TimeSpan.FromSeconds(1))));
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 1}");
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(client, "NSE_SBIN_LTP", "{\"ltp\": 1}");
        // Checked every second; the supervisor sweeps every 250 ms and the bus loop wakes at least every 300 ms,
        // so a healthy hub always shows progress (margins are wide: the CI machine is shared).
        Assert.True(await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(3.5)) >= 2);

        // Hold the client's queue lock on another thread: the bus thread blocks inside the fan-out.
        var session = appliance.Hub.Sessions.Single();
        using var release = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (session.Outbox.Gate.EnterScope())
            {
                held.Set();
                release.Wait();
            }
        });
        holder.Start();
        held.Wait();
        bus.Publish("NSE_SBIN_LTP", "{\"ltp\": 2}");
        await Task.Delay(2500); // the first check after the wedge may still see earlier progress
        var zmq = appliance.Services.GetRequiredService<OpenAlgo.Appliance.MarketData.Sources.ZmqTickSource>();
        long beatsBefore = zmq.Heartbeats;
        notify.Clear();
        int pets = await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(3.5));
        Assert.True(pets == 0, $"pets {pets}, bus heartbeats {beatsBefore} -> {zmq.Heartbeats}");

        release.Set();
        holder.Join();
        Assert.True(await notify.CountAsync("WATCHDOG=1", TimeSpan.FromSeconds(5)) >= 1);
    }

    [Fact]
    public void Watchdog_is_off_without_usec_or_for_another_pid()
    {
        Assert.Null(SystemdSettings.From(_ => null, 42).WatchdogInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), SystemdSettings.From(n => n == "WATCHDOG_USEC" ? "10000000" : null, 42).WatchdogInterval);
        Assert.Null(SystemdSettings.From(n => n switch { "WATCHDOG_USEC" => "10000000", "WATCHDOG_PID" => "7", _ => null }, 42).WatchdogInterval);
        Assert.NotNull(SystemdSettings.From(n => n switch { "WATCHDOG_USEC" => "10000000", "WATCHDOG_PID" => "42", _ => null }, 42).WatchdogInterval);
    }

    [Fact]
    public void Listen_fds_are_mapped_by_name_only_for_this_pid()
    {
        static string? Env(string n) => n switch { "LISTEN_PID" => "42", "LISTEN_FDS" => "3", "LISTEN_FDNAMES" => "internal:https:other", _ => null };
        var fds = ListenFds.Parse(Env, 42);
        Assert.Equal(3UL, fds["internal"]);
        Assert.Equal(4UL, fds["https"]);
        Assert.False(fds.ContainsKey("other"));
        Assert.Empty(ListenFds.Parse(Env, 43));
    }

    private string ReadyLine()
    {
        string logs = Path.Combine(_dir, "logs");
        if (!Directory.Exists(logs)) return "";
        foreach (var file in Directory.EnumerateFiles(logs, "*.log"))
        {
            using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            while (reader.ReadLine() is { } line)
            {
                if (line.Contains(" ready: ", StringComparison.Ordinal)) return line;
            }
        }
        return "";
    }

    [Fact]
    public async Task Socket_activation_serves_on_the_sockets_systemd_passes()
    {
        if (!File.Exists("/usr/bin/systemd-socket-activate")) Assert.Fail("systemd-socket-activate (Debian package systemd) is required");
        int https = TestAppliance.FreeTcpPort();
        int @internal = TestAppliance.FreeTcpPort();
        using var notify = new NotifySocket(@abstract: false);
        var env = Environment(notify, out _);
        env["Appliance__Listen__Https"] = "127.0.0.1:1"; // must not be used: systemd's sockets win
        env["Appliance__Listen__Internal"] = "127.0.0.1:2";
        var start = new ProcessStartInfo("/usr/bin/systemd-socket-activate") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-l", $"127.0.0.1:{https}", "-l", $"127.0.0.1:{@internal}", "--fdname=https:internal", "-E", "DOTNET_ROOT", "dotnet", Path.Combine(AppContext.BaseDirectory, "openalgo-appliance.dll"), "run" })
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
            start.ArgumentList.Insert(0, $"--setenv={k}={v}");
        }
        using var process = Process.Start(start)!;
        try
        {
            // systemd-socket-activate binds first (wait for that), then starts the service on the first connection.
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync("127.0.0.1", @internal);
                    break;
                }
                catch (SocketException) when (i < 99)
                {
                    await Task.Delay(100);
                }
            }
            // The probe started the service; on a loaded machine its start-up can take longer than a client's connect timeout.
            await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
            await using var client = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{@internal}/"));
            await client.AuthenticateAsync();
            await using var tls = await WsTestClient.ConnectAsync(new Uri($"wss://127.0.0.1:{https}/ws"));
            await tls.AuthenticateAsync();
            // The ready line says which sockets systemd passed (fds in -l order: https 3, internal 4).
            string ready = "";
            await Eventually.TrueAsync(() => (ready = ReadyLine()) != "", "the ready line in the log file");
            Assert.Contains($" ready: https 127.0.0.1:{https} (socket from systemd, fd 3), http off, internal 127.0.0.1:{@internal} (socket from systemd, fd 4);", ready);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }
}
