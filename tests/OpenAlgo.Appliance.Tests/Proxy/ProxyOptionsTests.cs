using System.Collections;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Proxy;

namespace OpenAlgo.Appliance.Tests.Proxy;

public sealed class ProxyOptionsTests
{
    private static ApplianceOptions Load(Hashtable environment) =>
        ApplianceConfiguration.Bind(ApplianceConfiguration.Build(new ConfigurationRequest
        {
            SkipAppSettings = true,
            Environment = environment,
        }), environment);

    [Fact]
    public void Embedded_defaults_leave_the_proxy_off_and_the_gates_on()
    {
        var o = Load([]);
        Assert.Equal("", o.Proxy.Upstream);
        Assert.True(o.Proxy.RequireSessionForSocketIo);
        Assert.Equal("/auth/session-status", o.Proxy.SessionCheckPath);
        Assert.Equal(16L << 20, o.Proxy.MaxRequestBodyBytes);
        Assert.Equal(300, o.Proxy.ReadTimeoutSeconds);
        Assert.Equal(86400, o.Proxy.UpgradeIdleTimeoutSeconds);
        Assert.Empty(o.Security.AllowedOrigins);
    }

    [Fact]
    public void Socketio_origins_and_appliance_variables_configure_it()
    {
        var o = Load(new Hashtable
        {
            ["SOCKETIO_ORIGINS"] = "'https://trade.example.com, https://desk.example.com'",
            ["Appliance__Proxy__Upstream"] = "unix:/var/python/openalgo/openalgo.sock",
            ["Appliance__Proxy__MaxRequestBodyBytes"] = "1048576",
        });
        Assert.Equal(["https://trade.example.com", "https://desk.example.com"], o.Security.AllowedOrigins);
        Assert.Equal("unix:/var/python/openalgo/openalgo.sock", o.Proxy.Upstream);
        Assert.Equal(1 << 20, o.Proxy.MaxRequestBodyBytes);
    }

    [Fact]
    public void Bad_values_name_the_key_and_the_fix()
    {
        var o = new ApplianceOptions();
        o.Proxy.Upstream = "ftp://127.0.0.1:5000";
        o.Proxy.SessionCheckPath = "auth/session-status";
        o.Proxy.MaxRequestBodyBytes = 0;
        o.Proxy.SessionCacheSeconds = -1;
        o.Proxy.UpgradeIdleTimeoutSeconds = 0;
        o.Security.AllowedOrigins = ["https://trade.example.com/app"];
        var errors = ApplianceOptionsValidator.Validate(o);
        Assert.Contains("Appliance:Proxy:Upstream: 'ftp://127.0.0.1:5000' is not an upstream address. Fix: use unix:/var/python/openalgo/openalgo.sock (gunicorn's --bind), http://127.0.0.1:5000, or empty to turn the proxy off.", errors);
        Assert.Contains(errors, e => e.StartsWith("Appliance:Proxy:SessionCheckPath: 'auth/session-status' is not a path", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Appliance:Proxy:MaxRequestBodyBytes: 0 is out of range. Fix:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Appliance:Proxy:SessionCacheSeconds: -1 is out of range. Fix:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Appliance:Proxy:UpgradeIdleTimeoutSeconds: 0 is out of range. Fix:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Appliance:Security:AllowedOrigins:0: 'https://trade.example.com/app' is not an origin. Fix: write scheme://host[:port]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("unix:/var/python/openalgo/openalgo.sock", "unix:/var/python/openalgo/openalgo.sock", "http://localhost")]
    [InlineData("http://unix:/var/python/openalgo/openalgo.sock", "unix:/var/python/openalgo/openalgo.sock", "http://localhost")]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000", "http://127.0.0.1:5000")]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000", "http://127.0.0.1:5000")]
    [InlineData("unix:relative.sock", null, null)]
    [InlineData("http://127.0.0.1:5000/app", null, null)]
    [InlineData("ws://127.0.0.1:5000", null, null)]
    [InlineData("127.0.0.1:5000", null, null)]
    public void Upstream_addresses_parse_as_gunicorn_and_nginx_write_them(string text, string? shown, string? prefix)
    {
        bool ok = FlaskAddress.TryParse(text, out var address);
        Assert.Equal(shown is not null, ok);
        if (!ok) return;
        Assert.Equal(shown, address.ToString());
        Assert.Equal(prefix, address.DestinationPrefix);
    }
}
