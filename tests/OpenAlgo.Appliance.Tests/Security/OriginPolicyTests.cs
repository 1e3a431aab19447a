using Microsoft.Extensions.Primitives;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Tests.Security;

public sealed class OriginPolicyTests
{
    private static OriginPolicy Policy(string[] domains, params string[] allowed) => new(new ApplianceOptions
    {
        Tls = new TlsSection { Domains = [.. domains] },
        Security = new SecuritySection { AllowedOrigins = [.. allowed] },
    });

    private static bool Allows(OriginPolicy policy, StringValues origin, string host = "trade.example.com", bool plainHttp = false) =>
        policy.IsAllowed(origin, new HostString(host), plainHttp);

    [Fact]
    public void No_origin_is_allowed_scripts_and_sdks_send_none()
    {
        Assert.True(Allows(Policy(["trade.example.com"]), StringValues.Empty));
    }

    [Theory]
    [InlineData("https://trade.example.com", true)]
    [InlineData("https://TRADE.example.com", true)]
    [InlineData("https://trade.example.com/", true)]
    [InlineData("https://trade.example.com:443", true)]
    [InlineData("https://trade.example.com:9443", false)]
    [InlineData("https://evil.example", false)]
    [InlineData("https://trade.example.com.evil.example", false)]
    [InlineData("http://trade.example.com", false)]
    [InlineData("null", false)]
    [InlineData("garbage", false)]
    public void Https_pages_of_the_configured_domains_only(string origin, bool allowed)
    {
        Assert.Equal(allowed, Allows(Policy(["trade.example.com"]), origin));
    }

    [Fact]
    public void The_port_the_client_dialled_counts_as_ours()
    {
        var policy = Policy(["localhost"]);
        Assert.True(Allows(policy, "https://localhost:8443", host: "localhost:8443"));
        Assert.False(Allows(policy, "https://localhost:9000", host: "localhost:8443"));
    }

    [Fact]
    public void Plain_http_of_our_domain_only_where_asked_for_websocket_client_default()
    {
        // websocket-client (the OpenAlgo SDK's transport) sends Origin: http://DOMAIN for wss://DOMAIN/ws.
        var policy = Policy(["trade.example.com"]);
        Assert.True(Allows(policy, "http://trade.example.com", plainHttp: true));
        Assert.True(Allows(policy, "http://trade.example.com:8443", host: "trade.example.com:8443", plainHttp: true));
        Assert.False(Allows(policy, "http://trade.example.com", plainHttp: false));
        Assert.False(Allows(policy, "http://evil.example", plainHttp: true));
    }

    [Fact]
    public void Allowed_origins_match_exactly_after_normalising_and_star_allows_any()
    {
        var policy = Policy(["trade.example.com"], "https://Desk.Example.com/", "http://127.0.0.1:5000");
        Assert.True(Allows(policy, "https://desk.example.com"));
        Assert.True(Allows(policy, "http://127.0.0.1:5000"));
        Assert.False(Allows(policy, "http://127.0.0.1:5001"));
        Assert.False(Allows(policy, "https://desk.example.com:8443"));
        Assert.True(Allows(Policy([], "*"), "https://anything.example"));
    }

    [Fact]
    public void Every_origin_header_must_pass()
    {
        var policy = Policy(["trade.example.com"]);
        Assert.False(Allows(policy, new StringValues(["https://trade.example.com", "https://evil.example"])));
        Assert.True(Allows(policy, new StringValues(["https://trade.example.com", "https://trade.example.com"])));
    }

    [Fact]
    public void Without_configured_domains_only_the_same_origin_passes()
    {
        var policy = Policy([]);
        Assert.True(Allows(policy, "https://203.0.113.5", host: "203.0.113.5"));
        Assert.True(Allows(policy, "https://[2001:db8::1]:8443", host: "[2001:db8::1]:8443"));
        Assert.False(Allows(policy, "https://evil.example", host: "203.0.113.5"));
    }

    [Theory]
    [InlineData("https://desk.example.com", "https://desk.example.com")]
    [InlineData("HTTPS://Desk.Example.COM:443/", "https://desk.example.com")]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000")]
    [InlineData("https://desk.example.com/path", null)]
    [InlineData("https://desk.example.com?x=1", null)]
    [InlineData("https://user@desk.example.com", null)]
    [InlineData("ftp://desk.example.com", null)]
    [InlineData("desk.example.com", null)]
    public void Origins_normalise_or_are_rejected(string text, string? expected)
    {
        bool ok = OriginPolicy.TryNormalize(text, out var origin);
        Assert.Equal(expected is not null, ok);
        if (ok) Assert.Equal(expected, origin.ToString());
    }
}
