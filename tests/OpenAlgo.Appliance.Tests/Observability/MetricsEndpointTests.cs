using System.Net;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// <c>/metrics</c> of the real executable, parsed by Prometheus' own text parser: the contract's
/// names with their <c>site</c> label, values that move while a feed runs, the framework's meters
/// beside ours — and nothing of it on the public listeners.
/// </summary>
public sealed class MetricsEndpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-metrics-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>The series the interface contract promises (§Observability), as a scrape names them.</summary>
    public static readonly string[] ContractSeries =
    [
        "openalgo_appliance_clients", "openalgo_appliance_subscriptions", "openalgo_appliance_ticks_received_total",
        "openalgo_appliance_deliveries_total", "openalgo_appliance_conflated_total", "openalgo_appliance_slow_client_disconnects_total",
        "openalgo_appliance_auth_failures_total", "openalgo_appliance_upstream_sessions", "openalgo_appliance_certificate_expiry_timestamp_seconds",
        "openalgo_appliance_acme_failures_total",
    ];

    [Fact]
    public async Task Metrics_parse_with_prometheus_client_carry_the_site_label_and_move_while_ticks_flow()
    {
        int internalPort = TestAppliance.FreeTcpPort(), adminPort = TestAppliance.FreeTcpPort();
        using var appliance = ApplianceProcess.Start(_dir, new Dictionary<string, string>
        {
            ["Appliance__Listen__Https"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}",
            ["Appliance__Listen__Http"] = "",
            ["Appliance__Listen__Internal"] = $"127.0.0.1:{internalPort}",
            ["Appliance__Listen__Admin"] = $"127.0.0.1:{adminPort}",
            ["Appliance__MarketData__Source"] = "Simulated",
            ["Appliance__MarketData__SimulatedTicksPerSecond"] = "20",
            ["Appliance__Auth__StaticKeys__0__Key"] = "testkey",
            ["Appliance__Auth__StaticKeys__0__UserId"] = "testuser",
            ["Appliance__Auth__StaticKeys__0__Broker"] = "fakebroker",
            ["Appliance__StateDirectory"] = Path.Combine(_dir, "state"),
            ["Appliance__LogsDirectory"] = Path.Combine(_dir, "logs"),
        }, "run");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var metrics = new Uri($"http://127.0.0.1:{adminPort}/metrics");
        await Eventually.SucceedsAsync(async () => (await http.GetAsync(metrics)).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(60));

        var idle = await PrometheusScrape.ScrapeAsync(http, metrics);
        foreach (var name in ContractSeries)
        {
            Assert.True(idle.Any(s => s.Name == name && s.Has("site", "default")), $"{name}{{site=\"default\"}} missing");
        }
        Assert.Equal(0, idle.Single("openalgo_appliance_clients", ("site", "default"), ("door", "internal")).Value);
        Assert.Equal("counter", idle.First(s => s.Name == "openalgo_appliance_ticks_received_total").Type);
        Assert.Equal("gauge", idle.First(s => s.Name == "openalgo_appliance_clients").Type);
        double expiry = idle.Single("openalgo_appliance_certificate_expiry_timestamp_seconds", ("site", "default")).Value;
        Assert.InRange(expiry, DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddDays(91).ToUnixTimeSeconds());
        Assert.Equal(1, idle.Single("openalgo_appliance_source_up", ("site", "default"), ("source", "simulated")).Value);
        // The framework's meters come with the same scrape.
        Assert.Contains(idle, s => s.Name.StartsWith("kestrel_", StringComparison.Ordinal));
        Assert.Contains(idle, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));

        await using var client = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{internalPort}/"));
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}, {\"symbol\": \"TCS\", \"exchange\": \"NSE\"}], \"mode\": \"Quote\"}");
        await client.ReceiveAsync(TimeSpan.FromSeconds(10)); // ticks flow
        await using var stranger = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{internalPort}/"));
        await stranger.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"wrong\"}");

        var first = await PrometheusScrape.ScrapeAsync(http, metrics);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var second = await PrometheusScrape.ScrapeAsync(http, metrics);
        (string, string) site = ("site", "default");
        Assert.Equal(2, second.Single("openalgo_appliance_clients", site, ("door", "internal")).Value);
        Assert.Equal(0, second.Single("openalgo_appliance_clients", site, ("door", "wss")).Value);
        Assert.Equal(2, second.Single("openalgo_appliance_subscriptions", site, ("mode", "quote")).Value);
        Assert.Equal(0, second.Single("openalgo_appliance_subscriptions", site, ("mode", "depth")).Value);
        Assert.Equal(1, second.Single("openalgo_appliance_users", site, ("broker", "fakebroker")).Value);
        Assert.Equal(1, second.Single("openalgo_appliance_auth_failures_total", site).Value);
        Assert.True(second.Single("openalgo_appliance_ticks_received_total", site).Value > first.Single("openalgo_appliance_ticks_received_total", site).Value, "ticks_received_total did not move");
        Assert.True(second.Single("openalgo_appliance_deliveries_total", site).Value > first.Single("openalgo_appliance_deliveries_total", site).Value, "deliveries_total did not move");
        var flushes = second.Single("openalgo_appliance_tick_to_frame_seconds_count", site).Value;
        Assert.True(flushes > 0, "no tick-to-frame measurement");
        Assert.True(second.Single("openalgo_appliance_tick_to_frame_seconds_bucket", site, ("le", "+Inf")).Value == flushes);
        Assert.Equal(1, second.Single("openalgo_appliance_build_info").Value);
        Assert.Equal(0, second.Single("openalgo_appliance_watchdog_enabled").Value); // no WATCHDOG_USEC here

        // docs/prometheus: the scrape config and the alert rules load as YAML, and every metric they name exists.
        string exprs = Python.Run($$"""
            import json, re, yaml
            config = yaml.safe_load(open({{Json(Path.Combine(Processes.RepositoryRoot(), "docs", "prometheus", "prometheus.yml"))}}))
            assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9765"], config
            rules = yaml.safe_load(open({{Json(Path.Combine(Processes.RepositoryRoot(), "docs", "prometheus", "openalgo-appliance-rules.yml"))}}))
            alerts = [r for g in rules["groups"] for r in g["rules"]]
            assert all(r["alert"] and r["expr"] and r["annotations"]["summary"] for r in alerts)
            print(json.dumps(sorted({n for r in alerts for n in re.findall(r"openalgo_appliance_[a-z_]+", r["expr"])})))
            """);
        var names = System.Text.Json.JsonSerializer.Deserialize<string[]>(exprs)!;
        Assert.Contains("openalgo_appliance_certificate_expiry_timestamp_seconds", names);
        Assert.Contains("openalgo_appliance_source_up", names);
        Assert.Contains("openalgo_appliance_watchdog_pets_total", names);
        Assert.Contains("openalgo_appliance_conflated_total", names);
        foreach (var name in names) Assert.True(second.Any(s => s.Name == name), $"the alert rules name {name}, which no scrape has");
    }

    private static string Json(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
