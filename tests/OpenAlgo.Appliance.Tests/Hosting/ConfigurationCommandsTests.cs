using System.Reflection;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary><c>check</c> and <c>show-config</c> through the real executable, and the key table's completeness.</summary>
public sealed class ConfigurationCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<ApplianceProcess> RunAsync(string json, Dictionary<string, string>? env, params string[] args)
    {
        string file = Path.Combine(_dir, "config.json");
        File.WriteAllText(file, json);
        var process = ApplianceProcess.Start(_dir, env ?? [], [.. args, "--config", file]);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return process;
    }

    public static TheoryData<string, string> Broken => new()
    {
        { """{"Appliance": {"Limits": {"MaxClient": 5}}}""", "Appliance:Limits:MaxClient: unknown key. Fix: did you mean Appliance:Limits:MaxClients?" },
        { """{"Appliance": {"Listen": {"Interal": "127.0.0.1:8765"}}}""", "Appliance:Listen:Interal: unknown key. Fix: did you mean Appliance:Listen:Internal?" },
        { """{"Appliance": {"Limits": {"MaxClients": "many"}}}""", "Appliance:Limits:MaxClients: 'many' is not a whole number. Fix: write a number such as 1000, without quotes or units. (set in " },
        { """{"Appliance": {"Limits": {"PingTimeoutSeconds": -1}}}""", "Appliance:Limits:PingTimeoutSeconds: -1 is out of range. Fix:" },
        { """{"Appliance": {"Tls": {"Mode": "Files"}}}""", "Appliance:Tls:CertificateFile: is required when Tls:Mode is Files. Fix:" },
        { """{"Appliance": {"Auth": {"StaticKeys": [{"Key": "k"}]}}}""", "Appliance:Auth:StaticKeys:0:UserId: is empty. Fix:" },
        { """{"Appliance": {"MarketData": {"Source": "Zmq", "ZmqEndpoint": "127.0.0.1:5555"}}}""", "Appliance:MarketData:ZmqEndpoint: '127.0.0.1:5555' is not a ZeroMQ endpoint. Fix:" },
        { """{"Appliance": {"MarketData": {"Source": "Zmq"}, "Auth": {"Mode": "Upstream"}}}""", "Appliance:Auth:Mode: Upstream needs MarketData:Source=OpenAlgo (it is Zmq). Fix:" },
        { """{"Appliance": {"MarketData": {"Source": "OpenAlgo"}}}""", "Appliance:Auth:Mode: StaticKeys cannot be used with MarketData:Source=OpenAlgo: OpenAlgo's proxy checks every key itself. Fix: set Auth:Mode to Upstream" },
        { """{"Appliance": {"MarketData": {"Source": "OpenAlgo", "OpenAlgoUpstreamUrl": "http://127.0.0.1:8766"}, "Auth": {"Mode": "Upstream"}}}""", "Appliance:MarketData:OpenAlgoUpstreamUrl: 'http://127.0.0.1:8766' is not a WebSocket URL. Fix:" },
        { """{"Appliance": {"Auth": {"Mode": "OpenAlgoDatabase"}}}""", "Appliance:Auth:DatabasePath: is empty. Fix:" },
        { """{"Appliance": {"Auth": {"Mode": "OpenAlgoDatabase", "DatabasePath": "/nonexistent/openalgo.db"}}}""", "Appliance:Auth:DatabasePath: '/nonexistent/openalgo.db' does not exist" },
        { """{"Appliance": {"Auth": {"Mode": "OpenAlgoDatabase"}}}""", "Appliance:Auth:ApiKeyPepper: is empty: OpenAlgo hashes every API key with its pepper. Fix:" },
        { """{"Appliance": """, "Fix: correct the JSON syntax" },
        { """{"Appliance": {"Tls": {"Mode": "Acme", "Domains": ["a.example"], "Acme": {"AcceptTermsOfService": true, "RenewCheckInterval": "00:00:00"}}}}""", "Appliance:Tls:Acme:RenewCheckInterval: 00:00:00 is out of range. Fix: use a time span from 00:00:01 to 1.00:00:00" },
        { """{"Appliance": {"Tls": {"Mode": "Acme", "Domains": ["a.example"], "Acme": {"AcceptTermsOfService": true, "RenewCheckInterval": "2.00:00:00"}}}}""", "Appliance:Tls:Acme:RenewCheckInterval: 2.00:00:00 is out of range" },
        { """{"Appliance": {"Tls": {"Acme": {"RenewCheckInterval": "ten minutes"}}}}""", "'ten minutes' is not a time span. Fix: write hours:minutes:seconds such as 00:10:00" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Check_exits_1_naming_the_key_and_fix(string json, string expected)
    {
        using var check = await RunAsync(json, null, "check");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains(expected, check.Stderr);
    }

    /// <summary>A package install has no docs/ folder: the hint names the copy dpkg installed.</summary>
    [Fact]
    public async Task On_a_package_install_hints_name_the_installed_configuration_reference()
    {
        PrivateMounts.Require();
        string config = Path.Combine(_dir, "typo.json");
        File.WriteAllText(config, """{"Appliance": {"Tls": {"Domain": ["trade.example.com"]}}}""");
        string[] wrapper = PrivateMounts.Wrapper(_dir, ["/usr/share/doc"], """
            mkdir -p /usr/share/doc/openalgo-appliance
            echo '# Configuration reference' | gzip -9n > /usr/share/doc/openalgo-appliance/configuration.md.gz
            """, out _);
        using var check = ApplianceProcess.StartUnder(wrapper, _dir, new Dictionary<string, string>(), "check", "--config", config);
        Assert.Equal(1, await check.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Appliance:Tls:Domain:0: unknown key. Fix: did you mean Appliance:Tls:Domains:*? (all keys: /usr/share/doc/openalgo-appliance/configuration.md.gz)", check.Stderr);
    }

    [Fact]
    public async Task Check_accepts_a_good_configuration()
    {
        using var check = await RunAsync("""{"Appliance": {"Auth": {"StaticKeys": [{"Key": "k", "UserId": "u", "Broker": "b"}]}}}""", null, "check");
        Assert.Equal(0, check.ExitCode);
        Assert.StartsWith("configuration OK", check.Stdout);
    }

    [Fact]
    public async Task Check_warns_when_a_domain_is_served_without_the_OpenAlgo_web_app_and_still_exits_0()
    {
        const string keys = "\"Auth\": {\"StaticKeys\": [{\"Key\": \"k\", \"UserId\": \"u\", \"Broker\": \"b\"}]}";
        using var check = await RunAsync("{\"Appliance\": {\"Tls\": {\"Domains\": [\"trade.example.com\"]}, " + keys + "}}", null, "check");
        Assert.Equal(0, check.ExitCode);
        Assert.StartsWith("configuration OK", check.Stdout);
        Assert.Contains("warning: Appliance:Proxy:Upstream: is empty, so https://trade.example.com/ shows no OpenAlgo web app (only market data on /ws). Fix: set it to", check.Stderr);

        using var set = await RunAsync("{\"Appliance\": {\"Tls\": {\"Domains\": [\"trade.example.com\"]}, \"Proxy\": {\"Upstream\": \"http://127.0.0.1:5000\"}, " + keys + "}}", null, "check");
        Assert.Equal(0, set.ExitCode);
        Assert.DoesNotContain("warning", set.Stderr);

        // With sites, the warning names the site's key.
        using var sites = await RunAsync(
            "{\"Appliance\": {\"Sites\": {" +
            "\"one\": {\"Tls\": {\"Domains\": [\"one.example.com\"]}, \"Proxy\": {\"Upstream\": \"http://127.0.0.1:5000\"}, \"Listen\": {\"Internal\": \"\"}, " + keys + "}, " +
            "\"two\": {\"Tls\": {\"Domains\": [\"two.example.com\"]}, \"Listen\": {\"Internal\": \"\"}, \"MarketData\": {\"ZmqEndpoint\": \"tcp://127.0.0.1:5556\"}, " + keys + "}}}}",
            null, "check");
        Assert.True(sites.ExitCode == 0, sites.Stderr);
        Assert.Contains("warning: Appliance:Sites:two:Proxy:Upstream: is empty, so https://two.example.com/", sites.Stderr);
        Assert.DoesNotContain("Sites:one:Proxy", sites.Stderr);
    }

    [Fact]
    public async Task Show_config_prints_values_with_their_source_and_redacts_secrets()
    {
        var env = new Dictionary<string, string> { ["WEBSOCKET_PORT"] = "9876", ["Appliance__Limits__MaxClients"] = "77", ["API_KEY_PEPPER"] = "pepper-that-is-long-enough-0123456789" };
        using var show = await RunAsync("""{"Appliance": {"Auth": {"StaticKeys": [{"Key": "supersecretkey", "UserId": "u", "Broker": "b"}]}}}""", env, "show-config");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("Appliance:Listen:Internal = 127.0.0.1:9876    # OpenAlgo .env name", show.Stdout);
        Assert.Contains("Appliance:Limits:MaxClients = 77    # environment Appliance__*", show.Stdout);
        Assert.Contains("Appliance:Auth:StaticKeys:0:UserId = u    # file ", show.Stdout);
        Assert.Contains("Appliance:Listen:Https = 0.0.0.0:443    # built-in default", show.Stdout);
        Assert.DoesNotContain("supersecretkey", show.Stdout);
        Assert.DoesNotContain("pepper-that-is-long-enough", show.Stdout);
        Assert.Contains("Appliance:Auth:StaticKeys:0:Key = (redacted, sha256 ", show.Stdout);
    }

    private const string TwoSites = """
        {"Appliance": {
          "Listen": {"Https": "127.0.0.1:8443"},
          "Limits": {"MaxClients": 500},
          "Auth": {"StaticKeys": [{"Key": "topsecretkey", "UserId": "u", "Broker": "b"}]},
          "Sites": {
            "broker1": {"Tls": {"Domains": ["one.example.com"]}, "Listen": {"Internal": "127.0.0.1:8765"}},
            "broker2": {"Tls": {"Domains": ["two.example.com"]}, "Listen": {"Internal": "127.0.0.1:8766"}, "Limits": {"MaxClients": 50}}
          }
        }}
        """;

    [Fact]
    public async Task Check_accepts_sites_and_lists_them()
    {
        using var check = await RunAsync(TwoSites, null, "check");
        Assert.Equal(0, check.ExitCode);
        Assert.Contains("configuration OK", check.Stdout);
        Assert.Contains("site broker1: one.example.com (SelfSigned, market data Simulated, internal 127.0.0.1:8765)", check.Stdout);
        Assert.Contains("site broker2: two.example.com (SelfSigned, market data Simulated, internal 127.0.0.1:8766)", check.Stdout);
    }

    [Fact]
    public async Task Check_refuses_a_global_key_inside_a_site_and_an_unknown_site_key()
    {
        string json = """{"Appliance": {"Sites": {"a": {"Tls": {"Domains": ["a.example.com"], "Acme": {"Email": "x@example.com"}}, "Listen": {"Https": "0.0.0.0:8443"}, "Limits": {"MaxClient": 3}}}}}""";
        using var check = await RunAsync(json, null, "check");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("Appliance:Sites:a:Tls:Acme:Email: is a global key: one value serves every site. Fix: set Appliance:Tls:Acme:Email outside Sites.", check.Stderr);
        Assert.Contains("Appliance:Sites:a:Listen:Https: is a global key: one value serves every site. Fix: set Appliance:Listen:Https outside Sites.", check.Stderr);
        Assert.Contains("Appliance:Sites:a:Limits:MaxClient: unknown key. Fix: did you mean Appliance:Sites:a:Limits:MaxClients?", check.Stderr);
    }

    [Fact]
    public async Task Show_config_prints_each_site_with_where_each_value_came_from()
    {
        using var show = await RunAsync(TwoSites, null, "show-config");
        Assert.Equal(0, show.ExitCode);
        string file = Path.Combine(_dir, "config.json");
        Assert.Contains("Appliance:Listen:Https = 127.0.0.1:8443    # file " + file, show.Stdout);
        Assert.Contains("# site broker2: two.example.com", show.Stdout);
        Assert.Contains($"Appliance:Sites:broker2:Limits:MaxClients = 50    # file {file} (site broker2)", show.Stdout);
        Assert.Contains($"Appliance:Sites:broker1:Limits:MaxClients = 500    # file {file} (inherited from Appliance:Limits:MaxClients)", show.Stdout);
        Assert.Contains("Appliance:Sites:broker1:Limits:PingIntervalSeconds = 20    # built-in default", show.Stdout);
        Assert.Contains($"Appliance:Sites:broker1:Auth:StaticKeys:0:UserId = u    # file {file} (inherited from Appliance:Auth:StaticKeys:0:UserId)", show.Stdout);
        Assert.Contains($"Appliance:Sites:broker2:Tls:Domains:0 = two.example.com    # file {file} (site broker2)", show.Stdout);
        Assert.DoesNotContain("topsecretkey", show.Stdout);
        // Site keys are shown per site, not again at the top level.
        Assert.DoesNotContain("\nAppliance:Limits:MaxClients =", show.Stdout);
    }

    [Fact]
    public async Task Check_names_each_bad_message_trace_key_with_its_line_and_show_config_lists_the_good_ones()
    {
        string bad = """
            {"Appliance": {
              "Sites": {"broker1": {"Tls": {"Domains": ["one.example.com"]}}},
              "Logging": {"MessageTrace": {"Enabled": true, "Sites": ["broker1", "broker9"], "Addresses": ["10.0.0.0/8", "not-an-ip", "2001:db8::1"],
                "TickSampleEvery": -1, "BytesPerMinute": 100}}
            }}
            """;
        using var check = await RunAsync(bad, null, "check");
        Assert.Equal(1, check.ExitCode);
        string file = Path.Combine(_dir, "config.json");
        Assert.Contains($"Appliance:Logging:MessageTrace:Sites:1: 'broker9' is not a site. Fix: use the name of a configured site (broker1), or leave Sites empty to trace every site. (set in {file}, line 3)", check.Stderr);
        Assert.Contains("Appliance:Logging:MessageTrace:Addresses:1: 'not-an-ip' is not an IP address or CIDR range.", check.Stderr);
        Assert.DoesNotContain("Addresses:0", check.Stderr);
        Assert.DoesNotContain("Addresses:2", check.Stderr);
        Assert.Contains("Appliance:Logging:MessageTrace:TickSampleEvery: -1 is negative.", check.Stderr);
        Assert.Contains("Appliance:Logging:MessageTrace:BytesPerMinute: 100 is out of range.", check.Stderr);

        using var show = await RunAsync("""{"Appliance": {"Logging": {"MessageTrace": {"Enabled": true, "Users": ["trader1", "trader2"]}}}}""", null, "show-config");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains($"Appliance:Logging:MessageTrace:Enabled = true    # file {file}", show.Stdout);
        Assert.Contains($"Appliance:Logging:MessageTrace:Users:1 = trader2    # file {file}", show.Stdout);
        Assert.Contains("Appliance:Logging:MessageTrace:TickSampleEvery = 100    # built-in default", show.Stdout);
        Assert.Contains("Appliance:Logging:MessageTrace:BytesPerMinute = 1048576    # built-in default", show.Stdout);
    }

    [Fact]
    public void Key_table_covers_every_option()
    {
        var expected = new List<string>();
        Walk(typeof(ApplianceOptions), "", expected);
        var known = ConfigurationKeys.All.Select(k => k.Pattern).ToList();
        Assert.Empty(expected.Except(known));
        Assert.Empty(known.Except(expected));
    }

    [Fact]
    public void Site_keys_are_exactly_the_options_a_site_holds()
    {
        var expected = new List<string>();
        Walk(typeof(SiteOptions), "", expected);
        var site = ConfigurationKeys.Of(KeyScope.Site).Select(k => k.Pattern).ToList();
        Assert.Empty(expected.Except(site));
        Assert.Empty(site.Except(expected));
    }

    private static void Walk(Type type, string prefix, List<string> keys)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // The site list and the derived views are not keys of their own (Logging:MessageTrace:Sites is).
            if ((prefix.Length == 0 && property.Name is nameof(ApplianceOptions.Sites)) || property.Name is nameof(ApplianceOptions.EffectiveSites) or nameof(SiteOptions.Name)
                or nameof(SiteOptions.IsImplicit) or nameof(SiteOptions.KeyPrefix)) continue;
            string key = prefix + property.Name;
            var t = property.PropertyType;
            if (t == typeof(string) || t.IsPrimitive || t.IsEnum || t == typeof(TimeSpan)) keys.Add(key);
            else if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
            {
                var item = t.GetGenericArguments()[0];
                if (item == typeof(string)) keys.Add(key + ":*");
                else Walk(item, key + ":*:", keys);
            }
            else Walk(t, key + ":", keys);
        }
    }
}
