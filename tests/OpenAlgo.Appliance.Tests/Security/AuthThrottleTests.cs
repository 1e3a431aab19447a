using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Security;

/// <summary>
/// Security:AuthThrottle — growing delay for failed authenticate calls per address, never for a
/// valid key — on a fake clock, then end to end with real sockets from two loopback addresses,
/// with local keys and with OpenAlgo's proxy judging them (MarketData:Source=OpenAlgo).
/// </summary>
public sealed class AuthThrottleTests
{
    private static readonly IPAddress One = IPAddress.Parse("203.0.113.7");

    private static AuthThrottle Throttle(FakeTimeProvider time, Action<AuthThrottleSection>? configure = null, ILogger<AuthThrottle>? logger = null)
    {
        var settings = new AuthThrottleSection();
        configure?.Invoke(settings);
        return new AuthThrottle(settings, time, logger ?? NullLogger<AuthThrottle>.Instance);
    }

    [Fact]
    public void Refusals_past_the_free_ones_wait_one_second_doubling_up_to_ten()
    {
        var time = new FakeTimeProvider();
        var throttle = Throttle(time);
        var delays = Enumerable.Range(0, 11).Select(_ =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return throttle.Failed(One).TotalSeconds;
        }).ToArray();
        Assert.Equal([0, 0, 0, 0, 0, 1, 2, 4, 8, 10, 10], delays);
        Assert.Equal(6, throttle.DelayedRefusals);
    }

    [Fact]
    public void An_address_is_forgiven_after_a_quiet_period_and_others_are_counted_apart()
    {
        var time = new FakeTimeProvider();
        var throttle = Throttle(time, s => s.FreeFailures = 1);
        Assert.Equal(TimeSpan.Zero, throttle.Failed(One));
        Assert.Equal(TimeSpan.FromSeconds(1), throttle.Failed(One));
        Assert.Equal(TimeSpan.Zero, throttle.Failed(IPAddress.Parse("203.0.113.8")));
        // The IPv4-mapped form is the same address.
        Assert.Equal(TimeSpan.FromSeconds(2), throttle.Failed(One.MapToIPv6()));
        time.Advance(TimeSpan.FromSeconds(901));
        Assert.Equal(TimeSpan.Zero, throttle.Failed(One));
    }

    [Fact]
    public void Ipv6_addresses_count_per_64()
    {
        var time = new FakeTimeProvider();
        var throttle = Throttle(time, s => s.FreeFailures = 1);
        Assert.Equal(TimeSpan.Zero, throttle.Failed(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal(TimeSpan.FromSeconds(1), throttle.Failed(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.Equal(TimeSpan.Zero, throttle.Failed(IPAddress.Parse("2001:db8:1:3::1")));
    }

    [Fact]
    public void Off_means_no_delay_and_settings_reload_in_place()
    {
        var time = new FakeTimeProvider();
        var throttle = Throttle(time, s => s.Enabled = false);
        for (int i = 0; i < 20; i++) Assert.Equal(TimeSpan.Zero, throttle.Failed(One));
        throttle.Reload(new AuthThrottleSection { FreeFailures = 0, InitialDelaySeconds = 3, MaxDelaySeconds = 5 });
        Assert.Equal(TimeSpan.FromSeconds(3), throttle.Failed(One));
        Assert.Equal(TimeSpan.FromSeconds(5), throttle.Failed(One));
        Assert.Equal(TimeSpan.Zero, throttle.Failed(null));
    }

    [Fact]
    public void It_logs_the_address_once_per_tenfold_and_never_a_key()
    {
        var time = new FakeTimeProvider();
        var log = new LogCapture();
        using var factory = LoggerFactory.Create(b => b.AddProvider(log));
        var throttle = Throttle(time, s => s.FreeFailures = 0, factory.CreateLogger<AuthThrottle>());
        for (int i = 0; i < 1000; i++) throttle.Failed(One);
        var lines = log.Lines.Where(l => l.Contains("203.0.113.7", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, lines.Count); // 1, 10, 100, 1000
        Assert.Contains("Warning: Address 203.0.113.7: 1000 failed authentications; its refusals are now held 10 s (Security:AuthThrottle; valid keys are not delayed)", lines);
    }

    [Fact]
    public async Task Over_real_sockets_refusals_wait_with_openalgos_envelope_a_valid_key_does_not_and_another_address_is_not_held()
    {
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Security.AuthThrottle.FreeFailures = 2;
            o.Security.AuthThrottle.InitialDelaySeconds = 1;
            o.Security.AuthThrottle.MaxDelaySeconds = 30;
            o.Limits.AuthGraceSeconds = 120;
        }, services: log.Register);
        var throttle = appliance.Services.GetRequiredService<AuthThrottle>();
        const string refusal = "{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}";

        using var guesser = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        for (int i = 0; i < 2; i++)
        {
            await guesser.SendTextAsync($"{{\"action\": \"authenticate\", \"api_key\": \"guess-{i}-secretvalue\"}}");
            Assert.Equal(refusal, await ReadTextAsync(guesser));
        }
        Assert.Equal(0, throttle.DelayedRefusals);

        // Third failure: held one second, then OpenAlgo's exact envelope.
        var watch = Stopwatch.StartNew();
        await guesser.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"guess-2-secretvalue\"}");
        Assert.Equal(refusal, await ReadTextAsync(guesser));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.95), $"refusal after {watch.Elapsed}");
        Assert.Equal(1, throttle.DelayedRefusals);

        // Fourth: held 2 s. Meanwhile a valid key from the same address is answered — before the held refusal.
        await guesser.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"guess-3-secretvalue\"}");
        var heldRefusal = ReadTextAsync(guesser);
        await using (var owner = await WsTestClient.ConnectAsync(appliance.InternalUri))
        {
            string success = await owner.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
            Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", success);
            Assert.False(heldRefusal.IsCompleted, "the valid key waited behind the held refusal");
        }
        Assert.Equal(refusal, await heldRefusal);

        // Another address starts from zero (a connection from 127.0.0.2).
        using var elsewhere = await ConnectFromAsync(IPAddress.Parse("127.0.0.2"), appliance.Internal.Port);
        long before = throttle.DelayedRefusals;
        await elsewhere.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"other-secretvalue\"}");
        Assert.Equal(refusal, await ReadTextAsync(elsewhere));
        Assert.Equal(before, throttle.DelayedRefusals);

        // The log names the address, never a key.
        Assert.Contains(log.Lines, l => l.Contains("Address 127.0.0.1: 3 failed authentications", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => l.Contains("secretvalue", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_openalgos_proxy_judging_keys_its_refusals_are_counted_and_held_too()
    {
        int port = TestAppliance.FreeTcpPort();
        // The origin stands in for OpenAlgo's proxy, which has no throttle of its own.
        await using var origin = await TestAppliance.StartAsync(o =>
        {
            o.Listen.Internal = $"127.0.0.1:{port}";
            o.Security.AuthThrottle.Enabled = false;
        });
        await using var front = await TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{port}";
            o.MarketData.SupportedBrokers = "";
            o.Security.AuthThrottle.FreeFailures = 1;
            o.Security.AuthThrottle.InitialDelaySeconds = 1;
        }, source: "OpenAlgo");
        await using var direct = await WsTestClient.ConnectAsync(origin.InternalUri);
        string originRefusal = await direct.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"wrong-0\"}");

        var throttle = front.Services.GetRequiredService<AuthThrottle>();
        await using var client = await WsTestClient.ConnectAsync(front.PublicUri);
        Assert.Equal(originRefusal, await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"wrong-1\"}"));
        Assert.Equal(0, throttle.DelayedRefusals);
        var watch = Stopwatch.StartNew();
        Assert.Equal(originRefusal, await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"wrong-2\"}"));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.95), $"refusal after {watch.Elapsed}");
        Assert.Equal(1, throttle.DelayedRefusals);
        // And the valid key still passes at once on the same connection.
        Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"));
    }

    [Fact]
    public async Task A_reload_changes_the_running_sites_throttle_in_place_keeping_its_counts()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Security.AuthThrottle.FreeFailures = 3);
        var throttle = appliance.Services.GetRequiredService<AuthThrottle>();
        Assert.Equal(TimeSpan.Zero, throttle.Failed(One));
        Assert.Equal(TimeSpan.Zero, throttle.Failed(One));

        var o = appliance.Options;
        var fresh = new ApplianceOptions
        {
            Listen = o.Listen, Tls = o.Tls, Http = o.Http, MarketData = o.MarketData, Auth = o.Auth, Limits = o.Limits, Proxy = o.Proxy,
            StateDirectory = o.StateDirectory, LogsDirectory = o.LogsDirectory, LogLevel = o.LogLevel,
            Security = new SecuritySection
            {
                AllowedOrigins = o.Security.AllowedOrigins,
                CheckWsOrigin = o.Security.CheckWsOrigin,
                AuthThrottle = new AuthThrottleSection { FreeFailures = 1, InitialDelaySeconds = 3, MaxDelaySeconds = 3 },
            },
        };
        var outcome = await appliance.Root.GetRequiredService<OpenAlgo.Appliance.Sites.SiteHost>().ApplyAsync(fresh, CancellationToken.None);
        Assert.Equal("default (Security:AuthThrottle:FreeFailures, Security:AuthThrottle:InitialDelaySeconds, Security:AuthThrottle:MaxDelaySeconds)", Assert.Single(outcome.Updated));
        Assert.Empty(outcome.Rebuilt);
        Assert.Same(throttle, appliance.Services.GetRequiredService<AuthThrottle>());
        // Third failure of this address, one free now: held 3 s at once.
        Assert.Equal(TimeSpan.FromSeconds(3), throttle.Failed(One));
    }

    private static async Task<string> ReadTextAsync(RawWebSocket socket)
    {
        var frame = await socket.ReadFrameAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(frame);
        Assert.Equal(0x1, frame.Value.Opcode);
        return System.Text.Encoding.UTF8.GetString(frame.Value.Payload);
    }

    private static async Task<RawWebSocket> ConnectFromAsync(IPAddress local, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(local, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return await RawWebSocket.OpenOnAsync(socket, port);
    }
}
