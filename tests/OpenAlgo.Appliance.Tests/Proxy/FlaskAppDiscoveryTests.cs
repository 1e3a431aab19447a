using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Proxy;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>Where OpenAlgo's installers put gunicorn's socket, found under a stand-in root.</summary>
public sealed class FlaskAppDiscoveryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oa-discovery-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Touch(string path)
    {
        string full = Path.Combine(_root, path.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, "");
    }

    [Fact]
    public void Nothing_installed_finds_nothing()
    {
        Assert.Empty(FlaskAppDiscovery.Find(_root, "trade.example.com"));
    }

    [Theory]
    [InlineData("/var/python/openalgo/openalgo.sock")] // gunicorn running
    [InlineData("/var/python/openalgo/.env")] // OpenAlgo installed, gunicorn stopped (no socket)
    public void The_newest_install_sh_layout_is_its_socket(string marker)
    {
        Touch(marker);
        var found = Assert.Single(FlaskAppDiscovery.Find(_root, "trade.example.com"));
        Assert.Equal("unix:/var/python/openalgo/openalgo.sock", found.Upstream);
    }

    [Fact]
    public void Older_install_sh_deployments_are_matched_by_domain_with_the_first_dot_made_a_dash()
    {
        // DEPLOY_NAME="${DOMAIN/./-}-${BROKER_NAME}": trade.example.com + zerodha → trade-example.com-zerodha.
        Touch("/var/python/openalgo-flask/trade-example.com-zerodha/openalgo.sock");
        Touch("/var/python/openalgo-flask/other-example.com-fyers/openalgo.sock");
        var found = Assert.Single(FlaskAppDiscovery.Find(_root, "trade.example.com"));
        Assert.Equal("unix:/var/python/openalgo-flask/trade-example.com-zerodha/openalgo.sock", found.Upstream);
        Assert.Contains("trade-example.com-zerodha", found.Why);
        // Stopped: the checkout's .env marks it.
        Touch("/var/python/openalgo-flask/other-example.com-angel/openalgo/.env");
        Assert.Equal(2, FlaskAppDiscovery.Find(_root, "other.example.com").Count);
        Assert.Empty(FlaskAppDiscovery.Find(_root, "trade.example.org"));
    }

    [Fact]
    public void Check_names_what_it_found_in_its_warning()
    {
        var site = new ApplianceOptions { Tls = { Domains = ["trade.example.com"] } }.DefaultSite();
        Assert.Contains("Fix: set it to OpenAlgo's gunicorn socket (install.sh: unix:/var/python/openalgo/openalgo.sock) or http://127.0.0.1:5000.",
            FlaskAppNotConfigured.Warning(site, _root));
        Touch("/var/python/openalgo/openalgo.sock");
        Assert.Equal("Appliance:Proxy:Upstream: is empty, so https://trade.example.com/ shows no OpenAlgo web app (only market data on /ws). " +
            "Fix: set it to unix:/var/python/openalgo/openalgo.sock (OpenAlgo's install.sh layout, /var/python/openalgo, found on this machine).",
            FlaskAppNotConfigured.Warning(site, _root));
        site.Proxy.Upstream = "http://127.0.0.1:5000";
        Assert.Null(FlaskAppNotConfigured.Warning(site, _root));
        Assert.Null(FlaskAppNotConfigured.Warning(new ApplianceOptions().DefaultSite(), _root)); // no domain: nothing hidden
    }
}
