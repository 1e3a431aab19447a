using System.Collections;
using System.Text.Json.Nodes;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Proxy;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary>
/// <c>install</c> staged under a root directory (<c>--root</c>): the CA's terms are never accepted
/// silently, and the configuration it writes points at OpenAlgo's web app (found where OpenAlgo's
/// installers put it, or given with <c>--upstream</c>).
/// </summary>
public sealed class InstallCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oa-install-").FullName;
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string ConfigPath => Path.Combine(_root, InstallCommand.ConfigFile);

    private int Install(string? domain = "trade.example.com", string? email = "ops@example.com", string? upstream = null, bool acceptTerms = true, TextReader? terminal = null) =>
        new InstallCommand(_output, _error, terminal).Install(domain, email, _root, start: false, upstream, acceptTerms);

    private void Touch(string path)
    {
        string full = Path.Combine(_root, path.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, "");
    }

    /// <summary>The written file through the real binder and validator, as the service will read it.</summary>
    private ApplianceOptions Load()
    {
        var configuration = ApplianceConfiguration.Build(new ConfigurationRequest { SkipAppSettings = true, ConfigFile = ConfigPath, Environment = new Hashtable() });
        return ApplianceConfiguration.Bind(configuration, new Hashtable { ["STATE_DIRECTORY"] = _root, ["LOGS_DIRECTORY"] = _root });
    }

    [Fact]
    public void Without_accept_terms_and_no_terminal_it_refuses_and_writes_nothing()
    {
        Assert.Equal(1, Install(acceptTerms: false));
        Assert.Contains("install does not accept them for you. Fix: read them (https://letsencrypt.org/repository/ for Let's Encrypt) and add --accept-terms.", _error.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
        // The same for a domain alone: the service would register an ACME account for it.
        Assert.Equal(1, Install(email: null, acceptTerms: false));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Theory]
    [InlineData("y\n", 0)]
    [InlineData("yes\n", 0)]
    [InlineData("n\n", 1)]
    [InlineData("\n", 1)]
    [InlineData("", 1)]
    public void On_a_terminal_it_asks(string answer, int exit)
    {
        Assert.Equal(exit, Install(acceptTerms: false, terminal: new StringReader(answer)));
        Assert.Contains("terms of service: https://letsencrypt.org/repository/\nDo you accept them? [y/N] ", _output.ToString());
        if (exit == 0) Assert.True(Load().Tls.Acme.AcceptTermsOfService);
        else Assert.False(File.Exists(ConfigPath));
    }

    [Fact]
    public void Accepted_terms_domain_and_email_land_in_a_configuration_that_checks_clean()
    {
        Assert.Equal(0, Install());
        var options = Load();
        Assert.Equal(["trade.example.com"], options.Tls.Domains);
        Assert.Equal("ops@example.com", options.Tls.Acme.Email);
        Assert.True(options.Tls.Acme.AcceptTermsOfService);
        Assert.Equal(TlsMode.Acme, options.Tls.Mode);
        // Nothing of OpenAlgo under the root: its default port, said so.
        Assert.Equal("http://127.0.0.1:5000", options.Proxy.Upstream);
        Assert.Contains("Proxy:Upstream = http://127.0.0.1:5000 (no OpenAlgo install.sh layout under /var/python: OpenAlgo's default port; change with --upstream)", _output.ToString());
        Assert.Null(FlaskAppNotConfigured.Warning(options.DefaultSite(), _root));
    }

    [Fact]
    public void The_upstream_is_OpenAlgo_install_sh_socket_when_that_layout_is_there()
    {
        Touch("/var/python/openalgo/.env"); // OpenAlgo stopped: no socket yet, its layout is enough
        Assert.Equal(0, Install());
        Assert.Equal("unix:/var/python/openalgo/openalgo.sock", Load().Proxy.Upstream);
        Assert.Contains("Proxy:Upstream = unix:/var/python/openalgo/openalgo.sock (found OpenAlgo's install.sh layout, /var/python/openalgo; change with --upstream)", _output.ToString());
    }

    [Fact]
    public void An_older_install_sh_deployment_for_the_domain_is_found_and_two_need_a_choice()
    {
        Touch("/var/python/openalgo-flask/trade-example.com-zerodha/openalgo.sock");
        Assert.Equal(0, Install());
        Assert.Equal("unix:/var/python/openalgo-flask/trade-example.com-zerodha/openalgo.sock", Load().Proxy.Upstream);

        File.Delete(ConfigPath);
        Touch("/var/python/openalgo-flask/trade-example.com-fyers/openalgo.sock");
        Assert.Equal(1, Install());
        Assert.Contains("2 OpenAlgo deployments could serve trade.example.com: unix:/var/python/openalgo-flask/trade-example.com-fyers/openalgo.sock, " +
            "unix:/var/python/openalgo-flask/trade-example.com-zerodha/openalgo.sock. Fix: pick one with --upstream.", _error.ToString());
        Assert.False(File.Exists(ConfigPath));

        Assert.Equal(0, Install(upstream: "unix:/var/python/openalgo-flask/trade-example.com-fyers/openalgo.sock"));
        Assert.Equal("unix:/var/python/openalgo-flask/trade-example.com-fyers/openalgo.sock", Load().Proxy.Upstream);
    }

    [Fact]
    public void An_explicit_upstream_wins_and_a_bad_one_is_refused()
    {
        Touch("/var/python/openalgo/openalgo.sock");
        Assert.Equal(0, Install(upstream: "http://127.0.0.1:5001"));
        Assert.Equal("http://127.0.0.1:5001", Load().Proxy.Upstream);
        Assert.Contains("Proxy:Upstream = http://127.0.0.1:5001 (--upstream)", _output.ToString());

        File.Delete(ConfigPath);
        Assert.Equal(1, Install(upstream: "ftp://127.0.0.1"));
        Assert.Contains("install: --upstream 'ftp://127.0.0.1' is not where a web app listens. Fix:", _error.ToString());
        Assert.False(File.Exists(ConfigPath));
    }

    [Fact]
    public void An_existing_configuration_is_kept_and_needs_no_terms()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ConfigPath)!);
        File.WriteAllText(ConfigPath, """{"Appliance": {"Proxy": {"Upstream": "http://127.0.0.1:5002"}}}""");
        Assert.Equal(0, Install(acceptTerms: false, upstream: "http://127.0.0.1:5001"));
        Assert.Contains("kept existing", _output.ToString());
        Assert.Contains("the options given for it were not applied", _output.ToString());
        Assert.Equal("http://127.0.0.1:5002", JsonNode.Parse(File.ReadAllText(ConfigPath))!["Appliance"]!["Proxy"]!["Upstream"]!.GetValue<string>());
    }
}
