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
    public void Install_multi_sh_instances_are_matched_by_the_host_of_HOST_SERVER_in_their_env()
    {
        // install-multi.sh: /var/python/openalgo-flask/openalgo<i>, HOST_SERVER = 'https://DOMAIN' in its .env.
        Write("/var/python/openalgo-flask/openalgo1/.env", "FLASK_PORT='5000'\nHOST_SERVER = 'https://one.example.com'\n");
        Write("/var/python/openalgo-flask/openalgo2/.env", "HOST_SERVER='https://Two.Example.com/'\n");
        Write("/var/python/openalgo-flask/openalgo3/.env", "HOST_SERVER = 'http://127.0.0.1:5000'\n"); // not yet given a domain
        Write("/var/python/openalgo-flask/openalgo-old/.env", "HOST_SERVER = 'https://one.example.com'\n"); // not an instance number
        var one = Assert.Single(FlaskAppDiscovery.Find(_root, "one.example.com"));
        Assert.Equal(new FlaskAppLocation("unix:/var/python/openalgo-flask/openalgo1/openalgo.sock",
            "OpenAlgo's install-multi.sh instance 1 for one.example.com (/var/python/openalgo-flask/openalgo1, HOST_SERVER in its .env)", 1), one);
        Assert.Equal(2, Assert.Single(FlaskAppDiscovery.Find(_root, "two.example.com")).MultiInstance);
        Assert.Empty(FlaskAppDiscovery.Find(_root, "three.example.com"));
    }

    private void Write(string path, string text)
    {
        Touch(path);
        File.WriteAllText(Path.Combine(_root, path.TrimStart('/')), text);
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
