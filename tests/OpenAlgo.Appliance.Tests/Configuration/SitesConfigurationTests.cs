using System.Collections;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Tests.Configuration;

/// <summary>
/// <c>Appliance:Sites:&lt;name&gt;</c>: a site key overrides the top-level key of the same name,
/// global keys stay global, what sites may not share is refused naming both, and every bad value is
/// reported in one run with the file and line it is written on.
/// </summary>
public sealed class SitesConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-sites-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        string file = Path.Combine(_dir, "config.json");
        File.WriteAllText(file, json);
        return file;
    }

    private ApplianceOptions Load(string json, Hashtable? environment = null)
    {
        var configuration = ApplianceConfiguration.Build(new ConfigurationRequest
        {
            ConfigurationDirectory = _dir,
            ConfigFile = Write(json),
            Environment = environment ?? [],
        });
        return ApplianceConfiguration.Bind(configuration, environment ?? []);
    }

    private ConfigurationErrorsException Refused(string json, Hashtable? environment = null) =>
        Assert.Throws<ConfigurationErrorsException>(() => Load(json, environment));

    // Two OpenAlgo instances as install-multi.sh lays them out: shared settings written once.
    private const string TwoSites = """
        {
          "Appliance": {
            "Tls": { "Mode": "SelfSigned" },
            "MarketData": { "Source": "Zmq" },
            "Limits": { "MaxClients": 500 },
            "Auth": { "StaticKeys": [ { "Key": "shared", "UserId": "u", "Broker": "b" } ] },
            "Sites": {
              "broker1": {
                "Tls": { "Domains": [ "one.example.com", "www.one.example.com" ] },
                "Listen": { "Internal": "127.0.0.1:8765" },
                "MarketData": { "ZmqEndpoint": "tcp://127.0.0.1:5555" },
                "Proxy": { "Upstream": "http://127.0.0.1:5000" }
              },
              "broker2": {
                "Tls": { "Domains": [ "two.example.com" ] },
                "Listen": { "Internal": "127.0.0.1:8766" },
                "MarketData": { "ZmqEndpoint": "tcp://127.0.0.1:5556" },
                "Proxy": { "Upstream": "http://127.0.0.1:5001" },
                "Limits": { "MaxClients": 50 },
                "Auth": { "StaticKeys": [ { "Key": "own", "UserId": "v", "Broker": "c" } ] }
              }
            }
          }
        }
        """;

    [Fact]
    public void Without_sites_the_top_level_keys_are_one_implicit_site_named_default()
    {
        var o = Load("""{"Appliance": {"Tls": {"Domains": ["trade.example.com"]}, "Limits": {"MaxClients": 7}}}""");
        Assert.Empty(o.Sites);
        var site = Assert.Single(o.EffectiveSites);
        Assert.Equal("default", site.Name);
        Assert.True(site.IsImplicit);
        Assert.Equal("", site.KeyPrefix);
        Assert.Same(o.Limits, site.Limits);
        Assert.Equal(["trade.example.com"], site.Tls.Domains);
        Assert.Equal(7, site.Limits.MaxClients);
    }

    [Fact]
    public void A_site_key_overrides_the_top_level_key_and_inherits_the_rest()
    {
        var o = Load(TwoSites);
        Assert.Equal(["broker1", "broker2"], o.EffectiveSites.Select(s => s.Name));
        var (one, two) = (o.Sites[0], o.Sites[1]);
        Assert.False(one.IsImplicit);
        Assert.Equal("Sites:broker2:", two.KeyPrefix);

        Assert.Equal(MarketDataSourceKind.Zmq, one.MarketData.Source);        // inherited
        Assert.Equal(MarketDataSourceKind.Zmq, two.MarketData.Source);
        Assert.Equal("tcp://127.0.0.1:5556", two.MarketData.ZmqEndpoint);     // overridden
        Assert.Equal(500, one.Limits.MaxClients);                             // inherited
        Assert.Equal(50, two.Limits.MaxClients);                              // overridden
        Assert.Equal(20, two.Limits.PingIntervalSeconds);                     // default
        Assert.Equal(["one.example.com", "www.one.example.com"], one.Tls.Domains);
        Assert.Equal("shared", Assert.Single(one.Auth.StaticKeys).Key);       // inherited array
        Assert.Equal("own", Assert.Single(two.Auth.StaticKeys).Key);          // a site's array replaces it whole
        Assert.NotSame(one.Limits, two.Limits);
    }

    [Fact]
    public void Site_keys_can_come_from_the_environment()
    {
        var env = new Hashtable { ["Appliance__Sites__broker2__Tls__Domains__0"] = "other.example.com", ["Appliance__Sites__broker2__Limits__MaxClients"] = "9" };
        var o = Load(TwoSites, env);
        Assert.Equal(["other.example.com"], o.Sites[1].Tls.Domains);
        Assert.Equal(9, o.Sites[1].Limits.MaxClients);
    }

    [Fact]
    public void The_authentication_throttle_is_per_site()
    {
        var env = new Hashtable { ["Appliance__Security__AuthThrottle__FreeFailures"] = "3", ["Appliance__Sites__broker2__Security__AuthThrottle__Enabled"] = "false" };
        var o = Load(TwoSites, env);
        Assert.Equal([3, 3], o.Sites.Select(s => s.Security.AuthThrottle.FreeFailures));
        Assert.Equal([true, false], o.Sites.Select(s => s.Security.AuthThrottle.Enabled));

        var bad = new Hashtable { ["Appliance__Sites__broker1__Security__AuthThrottle__FreeFailures"] = "-1" };
        Assert.Contains(Refused(TwoSites, bad).Errors, e => e.StartsWith("Appliance:Sites:broker1:Security:AuthThrottle:FreeFailures: -1 is out of range.", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> Shared => new()
    {
        {
            """{"Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}, "Listen": {"Internal": "127.0.0.1:8765"}}, "b": {"Tls": {"Domains": ["y.example.com", "X.example.com"]}, "Listen": {"Internal": "127.0.0.1:8766"}}}}""",
            "Appliance:Sites:b:Tls:Domains:1: 'X.example.com' is also a domain of site a. Fix: a host name belongs to one site: remove it from site a or site b."
        },
        {
            """{"Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}}, "b": {"Tls": {"Domains": ["y.example.com"]}}}}""",
            "Appliance:Sites:b:Listen:Internal: 127.0.0.1:8765 is also site a's internal listener. Fix: give each site its own port"
        },
        {
            """{"Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}, "Listen": {"Internal": "0.0.0.0:9000"}}, "b": {"Tls": {"Domains": ["y.example.com"]}, "Listen": {"Internal": "127.0.0.1:9000"}}}}""",
            "Appliance:Sites:b:Listen:Internal: 127.0.0.1:9000 is also site a's internal listener."
        },
        {
            """{"MarketData": {"Source": "Zmq"}, "Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}, "Listen": {"Internal": ""}}, "b": {"Tls": {"Domains": ["y.example.com"]}}}}""",
            "Appliance:Sites:b:MarketData:ZmqEndpoint: sites a and b would bind the same ZeroMQ endpoint tcp://127.0.0.1:5555. Fix:"
        },
        {
            """{"MarketData": {"Source": "OpenAlgo"}, "Auth": {"Mode": "Upstream"}, "Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}, "Listen": {"Internal": ""}}, "b": {"Tls": {"Domains": ["y.example.com"]}}}}""",
            "Appliance:Sites:b:MarketData:OpenAlgoUpstreamUrl: sites a and b use the same OpenAlgo proxy ws://127.0.0.1:8766"
        },
        {
            """{"Proxy": {"Upstream": "unix:/var/python/openalgo/openalgo.sock"}, "Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}, "Listen": {"Internal": ""}}, "b": {"Tls": {"Domains": ["y.example.com"]}}}}""",
            "Appliance:Sites:b:Proxy:Upstream: sites a and b proxy to the same OpenAlgo app unix:/var/python/openalgo/openalgo.sock. Fix:"
        },
        {
            """{"Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}}, "b": {"Listen": {"Internal": "127.0.0.1:8766"}}}}""",
            "Appliance:Sites:b:Tls:Domains: is empty: with Sites, requests reach a site by its host name. Fix: list the host names site b answers for"
        },
        {
            """{"Sites": {"a": {"Tls": {"Domains": ["x.example.com"]}, "Listen": {"Internal": "127.0.0.1:8443"}}}}""",
            "Appliance:Sites:a:Listen:Internal: 127.0.0.1:8443 is also Appliance:Listen:Https."
        },
        {
            """{"Sites": {"a/b": {"Tls": {"Domains": ["x.example.com"]}}}}""",
            "Appliance:Sites:a/b: 'a/b' is not a usable site name."
        },
        {
            """{"Sites": {"a": {"Tls": {"Domains": ["x.example.com"], "Mode": "Files"}}}}""",
            "Appliance:Sites:a:Tls:CertificateFile: is required when Tls:Mode is Files. Fix:"
        },
    };

    [Theory]
    [MemberData(nameof(Shared))]
    public void What_sites_may_not_share_is_refused_naming_both(string sites, string expected)
    {
        var ex = Refused("""{"Appliance": {"Listen": {"Https": "127.0.0.1:8443"}, """ + sites[1..^1] + "}}");
        Assert.Contains(ex.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_bad_value_is_reported_in_one_run_with_its_file_and_line()
    {
        string json = """
            {
              "Appliance": {
                "Limits": {
                  "MaxClients": "lots",
                  "PingIntervalSeconds": "often"
                },
                "Tls": { "Mode": "LetsEncrypt" },
                "Sites": {
                  "a": {
                    "Tls": { "Domains": [ "a.example.com" ] },
                    "Proxy": { "RequireSessionForSocketIo": "maybe" }
                  }
                }
              }
            }
            """;
        var ex = Refused(json);
        string file = Path.Combine(_dir, "config.json");
        Assert.Contains($"Appliance:Limits:MaxClients: 'lots' is not a whole number. Fix: write a number such as 1000, without quotes or units. (set in {file}, line 4)", ex.Errors);
        Assert.Contains($"Appliance:Limits:PingIntervalSeconds: 'often' is not a number. Fix: write a number such as 20 or 0.5, without quotes or units. (set in {file}, line 5)", ex.Errors);
        Assert.Contains($"Appliance:Tls:Mode: 'LetsEncrypt' is not a TLS mode. Fix: use SelfSigned, Files or Acme. (set in {file}, line 7)", ex.Errors);
        Assert.Contains($"Appliance:Sites:a:Proxy:RequireSessionForSocketIo: 'maybe' is not true or false. Fix: write true or false. (set in {file}, line 11)", ex.Errors);
        // Reported once, though the site inherits the same bad top-level value.
        Assert.Single(ex.Errors, e => e.StartsWith("Appliance:Limits:MaxClients:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_semantic_error_in_a_site_points_at_the_top_level_line_it_inherits()
    {
        string json = """
            {
              "Appliance": {
                "Limits": { "PingTimeoutSeconds": 0 },
                "Sites": { "a": { "Tls": { "Domains": [ "a.example.com" ] } } }
              }
            }
            """;
        var ex = Refused(json);
        string file = Path.Combine(_dir, "config.json");
        Assert.Contains($"Appliance:Sites:a:Limits:PingTimeoutSeconds: 0 is out of range. Fix: use a number of seconds above 0 and up to 864000. (set in Appliance:Limits:PingTimeoutSeconds, inherited: {file}, line 3)", ex.Errors);
    }

    [Fact]
    public void Numbers_in_mode_keys_are_not_modes()
    {
        var ex = Refused("""{"Appliance": {"Auth": {"Mode": "2"}}}""");
        Assert.Contains(ex.Errors, e => e.StartsWith("Appliance:Auth:Mode: '2' is not an auth mode. Fix: use StaticKeys, OpenAlgoDatabase or Upstream.", StringComparison.Ordinal));
    }

    [Fact]
    public void Finds_the_line_of_keys_and_array_elements_case_insensitively()
    {
        var json = """
            {
              // comments are allowed in appsettings files
              "appliance": {
                "tls": { "domains": [
                  "a.example.com",
                  "b.example.com",
                ] }
              }
            }
            """u8;
        Assert.Equal(3, ConfigurationProvenance.FindLine(json, ["Appliance"]));
        Assert.Equal(4, ConfigurationProvenance.FindLine(json, ["Appliance", "Tls", "Domains"]));
        Assert.Equal(6, ConfigurationProvenance.FindLine(json, ["Appliance", "Tls", "Domains", "1"]));
        Assert.Null(ConfigurationProvenance.FindLine(json, ["Appliance", "Tls", "Domains", "2"]));
        Assert.Null(ConfigurationProvenance.FindLine("{ broken"u8, ["Appliance"]));
    }
}
