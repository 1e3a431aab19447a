using System.Collections;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Tests.Configuration;

public sealed class ApplianceConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ApplianceOptions Load(Hashtable environment, string? appsettings = null, string? production = null, string? configFile = null, bool demo = false)
    {
        if (appsettings is not null) File.WriteAllText(Path.Combine(_dir, "appsettings.json"), appsettings);
        if (production is not null) File.WriteAllText(Path.Combine(_dir, "appsettings.Production.json"), production);
        string? extra = null;
        if (configFile is not null)
        {
            extra = Path.Combine(_dir, "extra.json");
            File.WriteAllText(extra, configFile);
        }
        var configuration = ApplianceConfiguration.Build(new ConfigurationRequest
        {
            Defaults = demo ? OpenAlgo.Appliance.Hosting.DemoDefaults.Values : new Dictionary<string, string?>(),
            SkipAppSettings = demo,
            ConfigurationDirectory = _dir,
            ConfigFile = extra,
            Environment = environment,
        });
        return ApplianceConfiguration.Bind(configuration, environment);
    }

    [Fact]
    public void Embedded_defaults_match_the_interface_contract()
    {
        var o = Load([]);
        Assert.Equal("0.0.0.0:443", o.Listen.Https);
        Assert.Equal("0.0.0.0:80", o.Listen.Http);
        Assert.Equal("127.0.0.1:8765", o.Listen.Internal);
        Assert.Equal("tcp://127.0.0.1:5555", o.MarketData.ZmqEndpoint);
        Assert.Equal(1 << 20, o.Limits.MaxMessageBytes);
        Assert.Equal(15, o.Limits.AuthGraceSeconds);
        Assert.Equal(20, o.Limits.PingIntervalSeconds);
        Assert.Equal(20, o.Limits.PingTimeoutSeconds);
        Assert.Equal(86400, o.Limits.IdleTimeoutSeconds);
        Assert.Equal(Path.GetFullPath("state"), o.StateDirectory);
        Assert.Equal(Path.GetFullPath("logs"), o.LogsDirectory);
    }

    [Fact]
    public void OpenAlgo_env_names_beat_defaults_and_lose_to_files_and_Appliance_variables()
    {
        var env = new Hashtable
        {
            ["WEBSOCKET_HOST"] = "'127.0.0.1'",
            ["WEBSOCKET_PORT"] = "9764",
            ["ZMQ_PORT"] = "6555",
            ["WS_PING_INTERVAL"] = "30",
            ["WS_AUTH_GRACE_SECONDS"] = "5",
            ["MAX_SYMBOLS_PER_WEBSOCKET"] = "500",
            ["MAX_WEBSOCKET_CONNECTIONS"] = "2",
            ["DATABASE_URL"] = "sqlite:///db/openalgo.db",
            ["VALID_BROKERS"] = "zerodha,angel",
            ["STATE_DIRECTORY"] = Path.Combine(_dir, "st") + ":/other",
        };
        var o = Load(env);
        Assert.Equal("127.0.0.1:9764", o.Listen.Internal);
        Assert.Equal("tcp://127.0.0.1:6555", o.MarketData.ZmqEndpoint);
        Assert.Equal(30, o.Limits.PingIntervalSeconds);
        Assert.Equal(5, o.Limits.AuthGraceSeconds);
        Assert.Equal(500, o.Limits.SymbolsPerUpstreamConnection);
        Assert.Equal(2, o.Limits.UpstreamConnectionsPerUser);
        Assert.Equal("db/openalgo.db", o.Auth.DatabasePath);
        Assert.Equal("zerodha,angel", o.MarketData.SupportedBrokers);
        Assert.Equal(Path.Combine(_dir, "st"), o.StateDirectory);

        env["Appliance__Limits__PingIntervalSeconds"] = "40";
        var layered = Load(env,
            appsettings: """{"Appliance": {"Listen": {"Internal": "127.0.0.1:7001"}, "Limits": {"PingIntervalSeconds": 35}}}""",
            production: """{"Appliance": {"Listen": {"Internal": "127.0.0.1:7002"}}}""",
            configFile: """{"Appliance": {"Auth": {"StaticKeys": [{"Key": "k", "UserId": "u", "Broker": "b"}]}}}""");
        Assert.Equal("127.0.0.1:7002", layered.Listen.Internal);
        Assert.Equal(40, layered.Limits.PingIntervalSeconds);
        Assert.Equal("u", Assert.Single(layered.Auth.StaticKeys).UserId);
    }

    [Fact]
    public void Demo_ignores_appsettings_files_but_honours_environment()
    {
        var env = new Hashtable { ["Appliance__Listen__Https"] = "127.0.0.1:9443" };
        var o = Load(env, production: """{"Appliance": {"MarketData": {"Source": "Zmq"}}}""", demo: true);
        Assert.Equal(MarketDataSourceKind.Simulated, o.MarketData.Source);
        Assert.Equal("127.0.0.1:9443", o.Listen.Https);
        Assert.Equal("127.0.0.1:8765", o.Listen.Internal);
    }

    [Theory]
    [InlineData("Appliance__Limits__MaxClients", "-1", "Appliance:Limits:MaxClients: -1 is not a positive number. Fix: use a whole number above 0.")]
    [InlineData("Appliance__Listen__Internal", "8765", "Appliance:Listen:Internal: '8765' is not host:port")]
    [InlineData("Appliance__Tls__Mode", "Letsencrypt", "Appliance:Tls:Mode: 'Letsencrypt' is not a TLS mode. Fix: use SelfSigned, Files or Acme.")]
    [InlineData("Appliance__MarketData__Source", "Kafka", "Appliance:MarketData:Source: 'Kafka' is not a market-data source")]
    [InlineData("Appliance__Auth__StaticKeys__0__Key", "sha256:xyz", "Appliance:Auth:StaticKeys:0:Key: has the sha256: prefix but not 64 hex digits")]
    [InlineData("Appliance__Limits__PingTimeoutSeconds", "0", "Appliance:Limits:PingTimeoutSeconds: 0 is out of range")]
    [InlineData("Appliance__Tls__Domains__0", "https://x.example.com/", "Appliance:Tls:Domains:0: 'https://x.example.com/' is not a host name")]
    [InlineData("Appliance__LogLevel", "Loud", "Appliance:LogLevel: 'Loud' is not a log level")]
    [InlineData("Appliance__Limits__MaxClients", "lots", "Appliance:Limits:MaxClients: 'lots' is not a whole number. Fix: write a number such as 1000, without quotes or units. (set in environment variable Appliance__Limits__MaxClients)")]
    [InlineData("Appliance__Limits__MaxSymbolsPerMessage", "0", "Appliance:Limits:MaxSymbolsPerMessage: 0 is not a positive number. Fix: use a whole number above 0.")]
    [InlineData("Appliance__Limits__MaxKeysPerObject", "8", "Appliance:Limits:MaxKeysPerObject: 8 is too low. Fix: use 16 or more")]
    [InlineData("Appliance__Http__MaxRequestHeadersTotalBytes", "100", "Appliance:Http:MaxRequestHeadersTotalBytes: 100 is too small for a browser's request. Fix: use at least 1024")]
    [InlineData("Appliance__Http__RequestHeadersTimeoutSeconds", "0", "Appliance:Http:RequestHeadersTimeoutSeconds: 0 is out of range")]
    [InlineData("Appliance__Security__AuthThrottle__MaxDelaySeconds", "0.5", "Appliance:Security:AuthThrottle:MaxDelaySeconds: 0.5 is below Security:AuthThrottle:InitialDelaySeconds (1). Fix: make the longest delay at least the first one.")]
    [InlineData("Appliance__Security__AuthThrottle__Enabled", "sometimes", "Appliance:Security:AuthThrottle:Enabled: 'sometimes' is not true or false")]
    public void Bad_values_name_the_key_and_the_fix(string variable, string value, string expected)
    {
        var env = new Hashtable { [variable] = value };
        var ex = Assert.Throws<ConfigurationErrorsException>(() => Load(env));
        Assert.Contains(ex.Errors, e => e.Contains(expected, StringComparison.Ordinal));
        Assert.All(ex.Errors, e => Assert.Contains("Fix:", e));
    }

    [Fact]
    public void Broken_json_is_reported_as_a_configuration_error()
    {
        var ex = Assert.Throws<ConfigurationErrorsException>(() => Load([], configFile: "{ \"Appliance\": { "));
        Assert.Contains("Fix: correct the JSON syntax", ex.Message);
    }
}
