using Microsoft.AspNetCore.Http;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Tests.Security;

public sealed class OriginPolicyReloadTests
{
    [Fact]
    public void Reload_applies_new_domains_and_allowed_origins()
    {
        var options = new ApplianceOptions();
        options.Tls.Domains = ["old.example.com"];
        var policy = new OriginPolicy(options);
        Assert.True(policy.IsAllowed("https://old.example.com", new HostString("old.example.com"), allowPlainHttpScheme: false));
        Assert.False(policy.IsAllowed("https://new.example.com", new HostString("new.example.com"), allowPlainHttpScheme: false));

        var fresh = new ApplianceOptions();
        fresh.Tls.Domains = ["new.example.com"];
        fresh.Security.AllowedOrigins = ["https://dashboard.example.org"];
        policy.Reload(fresh);
        Assert.True(policy.IsAllowed("https://new.example.com", new HostString("new.example.com"), allowPlainHttpScheme: false));
        Assert.True(policy.IsAllowed("https://dashboard.example.org", new HostString("new.example.com"), allowPlainHttpScheme: false));
        Assert.False(policy.IsAllowed("https://old.example.com", new HostString("new.example.com"), allowPlainHttpScheme: false));
    }

    [Fact]
    public void Reload_switches_the_ws_origin_check()
    {
        var policy = new OriginPolicy(new ApplianceOptions());
        Assert.False(policy.ChecksWs);
        var strict = new ApplianceOptions();
        strict.Security.CheckWsOrigin = true;
        policy.Reload(strict);
        Assert.True(policy.ChecksWs);
        policy.Reload(new ApplianceOptions());
        Assert.False(policy.ChecksWs);
    }
}
