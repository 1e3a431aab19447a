using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Sites;

/// <summary>What a reload does to a site, decided from the one table of keys; the socket names sites get.</summary>
public sealed class SiteChangesTests
{
    private static (ApplianceOptions Options, SiteOptions Site) Make(Action<SiteOptions>? change = null, Action<ApplianceOptions>? global = null)
    {
        var options = new ApplianceOptions();
        var site = TestSites.New("alpha", "alpha.test", "key", "user");
        site.Listen.Internal = "127.0.0.1:8765";
        site.MarketData.ZmqEndpoint = "tcp://127.0.0.1:5555";
        change?.Invoke(site);
        global?.Invoke(options);
        options.Sites.Add(site);
        return (options, site);
    }

    [Fact]
    public void Limits_and_origins_apply_in_place_anything_else_rebuilds_the_site()
    {
        var (before, running) = Make();
        var (same, unchanged) = Make();
        Assert.Empty(SiteChanges.Between(before, running, same, unchanged));

        var (after, limits) = Make(s => { s.Limits.MaxClients = 5; s.Security.AllowedOrigins = ["https://desk.example.com"]; });
        var changed = SiteChanges.Between(before, running, after, limits);
        Assert.Equal(["Limits:MaxClients", "Security:AllowedOrigins:0"], changed);
        Assert.True(SiteChanges.AppliesInPlace(changed));

        var (moved, bus) = Make(s => s.MarketData.ZmqEndpoint = "tcp://127.0.0.1:5556");
        changed = SiteChanges.Between(before, running, moved, bus);
        Assert.Equal(["MarketData:ZmqEndpoint"], changed);
        Assert.False(SiteChanges.AppliesInPlace(changed));

        var (rekeyed, keys) = Make(s => s.Auth.StaticKeys.Add(new StaticKeyOptions { Key = "second", UserId = "u2", Broker = "b" }));
        Assert.False(SiteChanges.AppliesInPlace(SiteChanges.Between(before, running, rekeyed, keys)));
    }

    [Fact]
    public void The_shared_acme_account_counts_only_for_sites_that_use_acme()
    {
        var (before, selfSigned) = Make();
        var (after, stillSelfSigned) = Make(global: o => o.Tls.Acme.Email = "new@example.com");
        Assert.Empty(SiteChanges.Between(before, selfSigned, after, stillSelfSigned));

        var (acmeBefore, acme) = Make(s => s.Tls.Mode = TlsMode.Acme);
        var (acmeAfter, acmeNow) = Make(s => s.Tls.Mode = TlsMode.Acme, o => o.Tls.Acme.Email = "new@example.com");
        Assert.Equal(["Tls:Acme:Email"], SiteChanges.Between(acmeBefore, acme, acmeAfter, acmeNow));
    }

    [Fact]
    public void The_renewal_period_rebuilds_no_site_and_the_global_keys_a_reload_cannot_apply_are_named()
    {
        var (before, acme) = Make(s => s.Tls.Mode = TlsMode.Acme);
        var (after, acmeNow) = Make(s => s.Tls.Mode = TlsMode.Acme, o =>
        {
            o.Tls.Acme.RenewCheckInterval = TimeSpan.FromMinutes(20);
            o.Listen.Admin = "127.0.0.1:9766";
            o.StateDirectory = "/srv/state";
            o.LogLevel = "Debug";
            o.Tls.Acme.Email = "new@example.com";
            o.Http.KeepAliveTimeoutSeconds = 30;
            o.Logging.MessageTrace.Enabled = true;
            o.Logging.MessageTrace.Users = ["alice"];
        });
        // The renewal period is the process's: rebuilding the site would not change it.
        Assert.Equal(["Tls:Acme:Email"], SiteChanges.Between(before, acme, after, acmeNow));
        // LogLevel and the message trace apply at once, the account's keys through the ACME sites: not listed.
        Assert.Equal(["Listen:Admin", "Http:KeepAliveTimeoutSeconds", "Tls:Acme:RenewCheckInterval", "StateDirectory"], SiteChanges.NeedRestart(before, after));
        Assert.Empty(SiteChanges.NeedRestart(before, Make().Options));
    }

    [Fact]
    public void Systemd_passes_the_default_sites_internal_listener_as_internal_and_others_as_internal_dash_name()
    {
        Assert.Equal("internal", InternalListener.SocketName("default"));
        Assert.Equal("internal-broker2", InternalListener.SocketName("broker2"));
        var sockets = ListenFds.Parse(name => name switch
        {
            "LISTEN_PID" => "42",
            "LISTEN_FDS" => "4",
            "LISTEN_FDNAMES" => "https:internal:internal-broker2:other",
            _ => null,
        }, 42);
        Assert.Equal(3UL, sockets["https"]);
        Assert.Equal(4UL, sockets["internal"]);
        Assert.Equal(5UL, sockets["internal-broker2"]);
        Assert.False(sockets.ContainsKey("other"));
    }
}
