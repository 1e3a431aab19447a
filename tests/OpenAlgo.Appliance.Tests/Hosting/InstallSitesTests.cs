using System.Collections;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary>
/// <c>install</c> with several <c>--site</c>/<c>--domain</c> pairs, through the executable as an
/// operator types it (staged with <c>--root</c>, or the documented command itself in a private mount
/// namespace): an <c>Appliance:Sites</c> configuration laid out as install-multi.sh numbers its
/// instances, that <c>check</c> accepts; one <c>--domain</c> writes what it always wrote.
/// </summary>
public sealed class InstallSitesTests : IDisposable
{
    private static readonly string Repository = Processes.RepositoryRoot();
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-install-sites-").FullName;
    private string Root => Path.Combine(_dir, "root");
    private string ConfigPath => Path.Combine(Root, InstallCommand.ConfigFile);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<ApplianceProcess> InstallAsync(params string[] args)
    {
        var install = ApplianceProcess.Start(_dir, new Dictionary<string, string>(), ["install", .. args, "--root", Root, "--no-start"]);
        await install.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return install;
    }

    /// <summary>An install-multi.sh instance under the root: its directory and the .env lines it writes.</summary>
    private void MultiInstance(int number, string domain)
    {
        string directory = Path.Combine(Root, "var/python/openalgo-flask", $"openalgo{number}");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ".env"),
            $"HOST_SERVER = 'https://{domain}'\nFLASK_PORT='{5000 + number - 1}'\nWEBSOCKET_PORT='{8765 + number - 1}'\nZMQ_PORT='{5555 + number - 1}'\n");
    }

    /// <summary>The written file through the real binder, as the service will read it.</summary>
    private ApplianceOptions Load()
    {
        var configuration = ApplianceConfiguration.Build(new ConfigurationRequest { SkipAppSettings = true, ConfigFile = ConfigPath, Environment = new Hashtable() });
        return ApplianceConfiguration.Bind(configuration, new Hashtable { ["STATE_DIRECTORY"] = _dir, ["LOGS_DIRECTORY"] = _dir });
    }

    private async Task AssertChecksCleanAsync(params string[] siteLines)
    {
        using var check = ApplianceProcess.Start(_dir, new Dictionary<string, string>(), "check", "--config", ConfigPath);
        Assert.True(await check.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, check.Stdout + check.Stderr);
        Assert.StartsWith("configuration OK", check.Stdout);
        Assert.Equal("", check.Stderr); // not even a warning
        foreach (var line in siteLines) Assert.Contains(line, check.Stdout);
    }

    [Fact]
    public async Task One_domain_writes_byte_for_byte_what_install_wrote_before_sites()
    {
        using var install = await InstallAsync("--domain", "trade.example.com", "--email", "ops@example.com", "--accept-terms");
        Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);
        // The file of main at 8581611 (before install knew sites), for the same command.
        Assert.Equal("""
            {
              "Appliance": {
                "Listen": {
                  "Https": "0.0.0.0:443",
                  "Http": "0.0.0.0:80",
                  "Internal": "127.0.0.1:8765"
                },
                "Tls": {
                  "Mode": "Acme",
                  "Domains": [
                    "trade.example.com"
                  ],
                  "Acme": {
                    "Email": "ops@example.com",
                    "AcceptTermsOfService": true
                  }
                },
                "MarketData": {
                  "Source": "OpenAlgo",
                  "OpenAlgoUpstreamUrl": "ws://127.0.0.1:8766"
                },
                "Auth": {
                  "Mode": "Upstream"
                },
                "LogLevel": "Information",
                "Proxy": {
                  "Upstream": "http://127.0.0.1:5000"
                }
              }
            }

            """, File.ReadAllText(ConfigPath));
        Assert.Contains("  Proxy:Upstream = http://127.0.0.1:5000 (no OpenAlgo install.sh layout under /var/python: OpenAlgo's default port; change with --upstream)\n", install.Stdout);
        Assert.DoesNotContain("site ", install.Stdout);
    }

    [Fact]
    public async Task Two_sites_on_an_install_multi_sh_host_get_their_instances_sockets_and_ports_and_check_accepts_them()
    {
        MultiInstance(1, "one.example.com");
        MultiInstance(2, "two.example.com");
        // Given in the other order: each site still gets its own instance's socket and WEBSOCKET_PORT.
        using var install = await InstallAsync("--site", "two", "--domain", "two.example.com",
            "--site", "one", "--domain", "one.example.com", "--domain", "www.one.example.com", "--email", "ops@example.com", "--accept-terms");
        Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);

        var options = Load();
        Assert.Equal(["one", "two"], options.Sites.Select(s => s.Name)); // the configuration's order: by name
        var two = options.Sites[1];
        Assert.Equal(["two.example.com"], two.Tls.Domains);
        Assert.Equal("unix:/var/python/openalgo-flask/openalgo2/openalgo.sock", two.Proxy.Upstream);
        Assert.Equal("127.0.0.1:8766", two.Listen.Internal);
        var one = options.Sites[0];
        Assert.Equal(["one.example.com", "www.one.example.com"], one.Tls.Domains);
        Assert.Equal("unix:/var/python/openalgo-flask/openalgo1/openalgo.sock", one.Proxy.Upstream);
        Assert.Equal("127.0.0.1:8765", one.Listen.Internal);
        // The instances' own proxies move to the first free ports after the internal listeners.
        Assert.Equal("ws://127.0.0.1:8767", two.MarketData.OpenAlgoUpstreamUrl);
        Assert.Equal("ws://127.0.0.1:8768", one.MarketData.OpenAlgoUpstreamUrl);
        // Shared settings once, at the top, inherited by each site.
        foreach (var site in options.Sites)
        {
            Assert.Equal(TlsMode.Acme, site.Tls.Mode);
            Assert.Equal(MarketDataSourceKind.OpenAlgo, site.MarketData.Source);
            Assert.Equal(AuthMode.Upstream, site.Auth.Mode);
        }
        Assert.Equal("ops@example.com", options.Tls.Acme.Email);
        Assert.True(options.Tls.Acme.AcceptTermsOfService);
        var appliance = JsonNode.Parse(File.ReadAllText(ConfigPath))!["Appliance"]!;
        Assert.Null(appliance["Tls"]!["Domains"]);
        Assert.Null(appliance["Listen"]!["Internal"]);
        Assert.Null(appliance["MarketData"]!["OpenAlgoUpstreamUrl"]);

        Assert.Contains("""
              site two: two.example.com
                Proxy:Upstream = unix:/var/python/openalgo-flask/openalgo2/openalgo.sock (found OpenAlgo's install-multi.sh instance 2 for two.example.com (/var/python/openalgo-flask/openalgo2, HOST_SERVER in its .env); change with --upstream after --site two)
                Listen:Internal = 127.0.0.1:8766 (install-multi.sh's WEBSOCKET_PORT of instance 2, where its clients connect)
                MarketData:OpenAlgoUpstreamUrl = ws://127.0.0.1:8767 (its OpenAlgo's own proxy moves here: set WEBSOCKET_PORT='8767' in that instance's .env)
              site one: one.example.com, www.one.example.com
            """.Replace("\r", ""), install.Stdout);
        await AssertChecksCleanAsync("site one: one.example.com, www.one.example.com (Acme, market data OpenAlgo, internal 127.0.0.1:8765)",
            "site two: two.example.com (Acme, market data OpenAlgo, internal 127.0.0.1:8766)");
    }

    [Fact]
    public async Task Three_sites_with_nothing_found_take_install_multi_sh_ports_by_position_and_an_upstream_given_per_site()
    {
        using var install = await InstallAsync("--accept-terms", "--email", "ops@example.com",
            "--site", "zerodha", "--domain", "z.example.com",
            "--site", "fyers", "--domain", "f.example.com", "--upstream", "unix:/srv/fyers/gunicorn.sock",
            "--site", "angel", "--domain", "a.example.com");
        Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);
        var loaded = Load().Sites;
        var sites = new[] { "zerodha", "fyers", "angel" }.Select(name => loaded.Single(s => s.Name == name)).ToList();
        Assert.Equal(["http://127.0.0.1:5000", "unix:/srv/fyers/gunicorn.sock", "http://127.0.0.1:5002"], sites.Select(s => s.Proxy.Upstream));
        Assert.Equal(["127.0.0.1:8765", "127.0.0.1:8766", "127.0.0.1:8767"], sites.Select(s => s.Listen.Internal));
        Assert.Equal(["ws://127.0.0.1:8768", "ws://127.0.0.1:8769", "ws://127.0.0.1:8770"], sites.Select(s => s.MarketData.OpenAlgoUpstreamUrl));
        Assert.Contains("    Proxy:Upstream = http://127.0.0.1:5002 (no OpenAlgo installer layout for a.example.com under /var/python: install-multi.sh's FLASK_PORT for instance 3; change with --upstream after --site angel)\n", install.Stdout);
        Assert.Contains("    Proxy:Upstream = unix:/srv/fyers/gunicorn.sock (--upstream)\n", install.Stdout);
        await AssertChecksCleanAsync("site angel: a.example.com", "site fyers: f.example.com", "site zerodha: z.example.com");
    }

    [Theory]
    [InlineData("--domain one.example.com --site one", "install: --domain one.example.com comes before any --site, so it belongs to no site. Fix: put each site's --domain (and --upstream) after its --site NAME.")]
    [InlineData("--site one --domain one.example.com --site two", "install: --site two has no --domain: a site is reached by its host names. Fix: add --domain NAME after --site two.")]
    [InlineData("--site one --domain one.example.com --site two --domain ONE.example.com", "install: --domain one.example.com is given for sites one and two. Fix: a host name belongs to one site: give it to one of them.")]
    [InlineData("--site one --domain one.example.com --site One --domain two.example.com", "install: --site One is given twice. Fix: name each site once, its --domain options after it.")]
    [InlineData("--site my.site --domain one.example.com", "install: --site 'my.site' is not a usable site name. Fix: use letters, digits, '-' and '_' (up to 40, starting with a letter or digit), for example broker1 or family-zerodha.")]
    [InlineData("--site one --domain one.example.com --upstream http://127.0.0.1:5000 --upstream http://127.0.0.1:5001", "install: --site one has 2 --upstream options. Fix: give each site one (where its OpenAlgo's gunicorn listens).")]
    [InlineData("--site one --domain one.example.com --upstream http://127.0.0.1:5000 --site two --domain two.example.com --upstream http://127.0.0.1:5000",
        "install: sites one and two would both proxy to http://127.0.0.1:5000: each site is one OpenAlgo instance with its own web app. Fix: give each site its instance's gunicorn socket or port with --upstream after its --site, or serve both names from one site (several --domain after one --site).")]
    [InlineData("--site one --domain one.example.com --site two --domain not_a_host!", "install: --domain 'not_a_host!' is not a host name. Fix: pass a bare name such as trade.example.com.")]
    public async Task A_mistake_in_the_sites_is_refused_before_anything_is_written(string args, string message)
    {
        using var install = await InstallAsync([.. args.Split(' '), "--accept-terms"]);
        Assert.Equal(1, install.ExitCode);
        Assert.Equal(message, install.Stderr.Trim());
        Assert.False(Directory.Exists(Root), "wrote something under the root");
    }

    [Fact]
    public async Task The_one_install_sh_deployment_cannot_serve_two_sites_and_a_site_with_two_candidates_must_choose()
    {
        Directory.CreateDirectory(Path.Combine(Root, "var/python/openalgo"));
        File.WriteAllText(Path.Combine(Root, "var/python/openalgo/.env"), "HOST_SERVER = 'https://one.example.com'\n");
        using (var both = await InstallAsync("--accept-terms", "--site", "one", "--domain", "one.example.com", "--site", "two", "--domain", "two.example.com"))
        {
            Assert.Equal(1, both.ExitCode);
            Assert.StartsWith("install: sites one and two would both proxy to unix:/var/python/openalgo/openalgo.sock:", both.Stderr);
        }
        // With install-multi.sh's instance for two, two is its own and one takes install.sh's deployment.
        MultiInstance(2, "two.example.com");
        using (var split = await InstallAsync("--accept-terms", "--site", "one", "--domain", "one.example.com", "--site", "two", "--domain", "two.example.com"))
        {
            Assert.True(split.ExitCode == 0, split.Stdout + split.Stderr);
            Assert.Equal(["unix:/var/python/openalgo/openalgo.sock", "unix:/var/python/openalgo-flask/openalgo2/openalgo.sock"], Load().Sites.OrderBy(s => s.Name).Select(s => s.Proxy.Upstream));
        }
        File.Delete(ConfigPath);
        // An older install.sh deployment of the same name as well: two candidates for site two.
        Directory.CreateDirectory(Path.Combine(Root, "var/python/openalgo-flask/two-example.com-zerodha"));
        File.WriteAllText(Path.Combine(Root, "var/python/openalgo-flask/two-example.com-zerodha/openalgo.sock"), "");
        using (var ambiguous = await InstallAsync("--accept-terms", "--site", "one", "--domain", "one.example.com", "--site", "two", "--domain", "two.example.com"))
        {
            Assert.Equal(1, ambiguous.ExitCode);
            Assert.Equal("install: 2 OpenAlgo deployments could serve site two (two.example.com): unix:/var/python/openalgo-flask/two-example.com-zerodha/openalgo.sock, " +
                "unix:/var/python/openalgo-flask/openalgo2/openalgo.sock. Fix: pick one with --upstream after --site two.", ambiguous.Stderr.Trim());
            Assert.False(File.Exists(ConfigPath));
        }
    }

    /// <summary>
    /// Every <c>sudo ./openalgo-appliance install …</c> line of docs/operations.md, exactly as written,
    /// as root in a private mount namespace (/etc, /usr and /var are overlays written under the
    /// test's directory) on an install-multi.sh host, with systemctl and systemd-sysusers standing in
    /// (they record their arguments). The two-site command writes docs/configuration.md's example.
    /// </summary>
    [Fact]
    public async Task The_documented_install_commands_run_as_written_and_write_the_documented_configuration()
    {
        PrivateMounts.Require();
        string operations = File.ReadAllText(Path.Combine(Repository, "docs/operations.md"));
        var commands = Regex.Matches(operations, "```sh\n(.*?)```", RegexOptions.Singleline)
            .SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Select(l => l.Split('#')[0].Trim())
            .Where(l => l.StartsWith("sudo ./openalgo-appliance install ", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(2, commands.Count);

        string bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        string calls = Path.Combine(_dir, "calls.log");
        void Script(string path, string body)
        {
            File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
        }
        Script(Path.Combine(bin, "sudo"), "exec \"$@\"");
        Script(Path.Combine(bin, "systemctl"), $"echo \"systemctl $*\" >> {calls}");
        Script(Path.Combine(bin, "systemd-sysusers"), $"echo \"systemd-sysusers $*\" >> {calls}");
        // The tarball's binary, as ./openalgo-appliance in the directory the operator unpacked.
        string unpacked = Path.Combine(_dir, "openalgo-appliance-linux-x64");
        Directory.CreateDirectory(unpacked);
        Script(Path.Combine(unpacked, "openalgo-appliance"), $"exec dotnet {Path.Combine(AppContext.BaseDirectory, "openalgo-appliance.dll")} \"$@\"");

        foreach (var command in commands)
        {
            string run = Path.Combine(_dir, $"run{commands.IndexOf(command)}");
            Directory.CreateDirectory(run);
            string[] wrapper = PrivateMounts.Wrapper(run, ["/etc", "/usr", "/var"], """
                rm -rf /etc/openalgo-appliance /var/python
                for i in 1 2; do
                  mkdir -p /var/python/openalgo-flask/openalgo$i
                  d=$([ $i = 1 ] && echo one || echo two)
                  printf "HOST_SERVER = 'https://%s.example.com'\nWEBSOCKET_PORT='%s'\n" $d $((8764 + i)) > /var/python/openalgo-flask/openalgo$i/.env
                done
                """, out string upper);
            var start = new ProcessStartInfo(wrapper[0]) { WorkingDirectory = unpacked, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var part in wrapper.Skip(1)) start.ArgumentList.Add(part);
            start.ArgumentList.Add("sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(command);
            start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Appliance__", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
            File.Delete(calls);
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            string output = await stdout + await stderr;
            Assert.True(process.ExitCode == 0, command + "\n" + output);
            Assert.Equal(["systemd-sysusers openalgo-appliance.conf", "systemctl daemon-reload", "systemctl enable --now openalgo-appliance.service"], File.ReadAllLines(calls));
            Assert.True(File.Exists(Path.Combine(upper, "usr/lib/sysusers.d/openalgo-appliance.conf")));
            string written = File.ReadAllText(Path.Combine(upper, "etc/openalgo-appliance/appsettings.Production.json"));
            if (command.Contains("--site", StringComparison.Ordinal))
            {
                Assert.Contains("started: systemctl status openalgo-appliance; check every site with: openalgo-appliance verify\n", output);
                Assert.True(JsonNode.DeepEquals(ConfigurationExample(), JsonNode.Parse(written)), "docs/configuration.md's example differs from what install wrote:\n" + written);
            }
            else
            {
                Assert.Contains("started: systemctl status openalgo-appliance; check with: openalgo-appliance verify https://trade.example.com/\n", output);
                Assert.Equal(["trade.example.com"], JsonNode.Parse(written)!["Appliance"]!["Tls"]!["Domains"]!.AsArray().Select(d => d!.GetValue<string>()));
            }
        }
    }

    /// <summary>The two-site example of docs/configuration.md (the JSON block after the install command it names).</summary>
    private static JsonNode ConfigurationExample()
    {
        string configuration = File.ReadAllText(Path.Combine(Repository, "docs/configuration.md"));
        int command = configuration.IndexOf("sudo ./openalgo-appliance install --site openalgo1 --domain one.example.com --site openalgo2 --domain two.example.com --email you@example.com --accept-terms", StringComparison.Ordinal);
        Assert.True(command >= 0, "docs/configuration.md no longer names the install command of its example");
        var block = Regex.Match(configuration[command..], "```json\n(.*?)```", RegexOptions.Singleline);
        return JsonNode.Parse(block.Groups[1].Value)!;
    }
}
