using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tests.Tls;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary>
/// <c>verify</c> on a configuration with sites, through the executable against a running appliance:
/// it names the site that answered a name and checks that the site's certificate covers it; without
/// an address it checks every site. The sites' names resolve to this machine through /etc/hosts in a
/// private mount namespace, as DNS would point them at the server.
/// </summary>
public sealed class VerifySitesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-verify-sites-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// Sites alpha and beta (self-signed) — and, when <paramref name="gammaCertificateFor"/> is given, gamma in
    /// Files mode with a certificate for that name instead of its own.
    /// </summary>
    private string Configuration(int https, string? gammaCertificateFor = null)
    {
        string gamma = "";
        if (gammaCertificateFor is not null)
        {
            var pair = CertificateSourcesTests.MakeChain(gammaCertificateFor);
            File.WriteAllText(Path.Combine(_dir, "gamma.crt"), pair.Chain);
            File.WriteAllText(Path.Combine(_dir, "gamma.key"), pair.Key);
            gamma = $$"""
                , "gamma": { "Tls": { "Domains": ["gamma.test"], "Mode": "Files", "CertificateFile": "{{_dir}}/gamma.crt", "KeyFile": "{{_dir}}/gamma.key" },
                             "Listen": { "Internal": "127.0.0.1:{{TestAppliance.FreeTcpPort()}}" } }
                """;
        }
        string path = Path.Combine(_dir, "sites.json");
        File.WriteAllText(path, $$"""
            { "Appliance": {
                "Listen": { "Https": "127.0.0.1:{{https}}", "Http": "" },
                "Tls": { "Mode": "SelfSigned" },
                "MarketData": { "Source": "Simulated" },
                "Auth": { "Mode": "StaticKeys", "StaticKeys": [ { "Key": "alpha-key", "UserId": "alice", "Broker": "fakebroker" } ] },
                "StateDirectory": "{{_dir}}/state", "LogsDirectory": "{{_dir}}/logs",
                "Sites": {
                  "alpha": { "Tls": { "Domains": ["alpha.test", "www.alpha.test"] }, "Listen": { "Internal": "127.0.0.1:{{TestAppliance.FreeTcpPort()}}" } },
                  "beta": { "Tls": { "Domains": ["beta.test"] }, "Listen": { "Internal": "127.0.0.1:{{TestAppliance.FreeTcpPort()}}" } }
                  {{gamma}}
                } } }
            """);
        return path;
    }

    private async Task<ApplianceProcess> RunAsync(string config)
    {
        var appliance = ApplianceProcess.Start(_dir, new Dictionary<string, string>(), "run", "--config", config);
        await Eventually.TrueAsync(() => appliance.Stdout.Contains(" ready: ", StringComparison.Ordinal) || appliance.HasExited, "the ready line", TimeSpan.FromSeconds(60));
        Assert.False(appliance.HasExited, appliance.Stdout + appliance.Stderr);
        return appliance;
    }

    /// <summary><c>verify ARGS --config CONFIG</c> with the sites' names in /etc/hosts.</summary>
    private async Task<ApplianceProcess> VerifyAsync(string config, params string[] args)
    {
        PrivateMounts.Require();
        string[] wrapper = PrivateMounts.Wrapper(Path.Combine(_dir, $"ns{Guid.NewGuid():N}"), ["/etc"],
            "echo '127.0.0.1 alpha.test www.alpha.test beta.test gamma.test' >> /etc/hosts", out _);
        var verify = ApplianceProcess.StartUnder(wrapper, _dir, new Dictionary<string, string>(), ["verify", .. args, "--config", config]);
        await verify.WaitForExitAsync(TimeSpan.FromSeconds(90));
        return verify;
    }

    [Fact]
    public async Task Without_an_address_it_checks_every_site_and_names_the_site_that_answered_each()
    {
        int https = TestAppliance.FreeTcpPort();
        string config = Configuration(https);
        using var appliance = await RunAsync(config);

        using var all = await VerifyAsync(config);
        Assert.True(all.ExitCode == 0, all.Stdout + all.Stderr);
        string report = all.Stdout;
        int alpha = report.IndexOf($"site alpha: https://alpha.test:{https}/\n", StringComparison.Ordinal);
        int beta = report.IndexOf($"site beta: https://beta.test:{https}/\n", StringComparison.Ordinal);
        Assert.True(alpha >= 0 && beta > alpha, report);
        Assert.Contains($"PASS TLS handshake with alpha.test:{https}: Tls1", report[alpha..beta]);
        Assert.Contains("WARN certificate for alpha.test, www.alpha.test, localhost, issuer CN=alpha.test", report[alpha..beta]);
        Assert.Contains("PASS site alpha answered alpha.test: its certificate covers the name\n", report[alpha..beta]);
        Assert.Contains($"PASS WebSocket upgrade on wss://alpha.test:{https}/ws", report[alpha..beta]);
        Assert.Contains("PASS site beta answered beta.test: its certificate covers the name\n", report[beta..]);
        Assert.Contains($"PASS WebSocket upgrade on wss://beta.test:{https}/ws", report[beta..]);
        Assert.EndsWith("verify: OK", report.Trim());

        // One site's other name, with its key: that site answered, and the key is its own.
        using var one = await VerifyAsync(config, $"www.alpha.test:{https}", "--api-key", "alpha-key");
        Assert.True(one.ExitCode == 0, one.Stdout + one.Stderr);
        Assert.Contains("PASS site alpha answered www.alpha.test: its certificate covers the name\n", one.Stdout);
        Assert.Contains("PASS authenticate: ", one.Stdout);
        Assert.DoesNotContain("site beta", one.Stdout);

        // A key without an address: it belongs to one site, so verify asks which.
        using var keyOnly = await VerifyAsync(config, "--api-key", "alpha-key");
        Assert.Equal(1, keyOnly.ExitCode);
        Assert.Equal("verify: an API key belongs to one site, and this configuration has 2. Fix: give that site's address with it, for example: openalgo-appliance verify alpha.test --api-key KEY", keyOnly.Stderr.Trim());

        // A bare address sends no name: several sites refuse it, and verify says why and what to do.
        using var bare = await VerifyAsync(config, $"127.0.0.1:{https}");
        Assert.Equal(1, bare.ExitCode);
        Assert.StartsWith($"FAIL TLS handshake with 127.0.0.1:{https}: refused with the TLS alert unrecognized_name: the server has several sites and none of them has the name (a bare address sends none). " +
            "Fix: verify one of the sites' names (site alpha: alpha.test, www.alpha.test; site beta: beta.test), or run verify without an address to check every site.", bare.Stdout);
        appliance.Terminate();
    }

    [Fact]
    public async Task A_site_serving_a_certificate_for_another_sites_name_fails_and_verify_names_both_sites()
    {
        int https = TestAppliance.FreeTcpPort();
        string config = Configuration(https, gammaCertificateFor: "alpha.test");
        using var appliance = await RunAsync(config);

        using var all = await VerifyAsync(config);
        Assert.Equal(1, all.ExitCode);
        Assert.Contains("PASS site alpha answered alpha.test: its certificate covers the name\n", all.Stdout);
        Assert.Contains("PASS site beta answered beta.test: its certificate covers the name\n", all.Stdout);
        Assert.Contains("FAIL gamma.test is site gamma's name, but the certificate served for it is for alpha.test (site alpha's): clients refuse it. " +
            "Fix: site gamma's certificate must cover gamma.test (Appliance:Sites:gamma:Tls:CertificateFile in Files mode, else its Tls:Domains); check with: openalgo-appliance certificates.\n", all.Stdout);
        // The certificate line fails too (its names are not gamma.test's): two failures, both gamma's.
        Assert.Contains("FAIL certificate for alpha.test, issuer ", all.Stdout);
        Assert.EndsWith("verify: 2 check(s) failed (site gamma)", all.Stdout.Trim());

        // A name of no site in this configuration that a server still answers: the running service reads another one.
        string other = Path.Combine(_dir, "other.json");
        File.WriteAllText(other, File.ReadAllText(config).Replace("\"beta.test\"", "\"beta2.test\"", StringComparison.Ordinal));
        using var stale = await VerifyAsync(other, $"beta.test:{https}");
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("FAIL beta.test is no site's name in this configuration (site alpha: alpha.test, www.alpha.test; site beta: beta2.test; site gamma: gamma.test), yet a server answered it with a certificate for beta.test, localhost. " +
            "Fix: if the running service reads another configuration, reload it (systemctl reload openalgo-appliance); otherwise another server answers this address.\n", stale.Stdout);
        appliance.Terminate();
    }

    /// <summary>
    /// docs/operations.md's verify commands for sites, exactly as written, against an appliance with
    /// sites one and two on port 443 — in a network namespace of their own (its own loopback, so
    /// port 443 is nobody else's) and a mount namespace whose /etc has the installed configuration
    /// and the sites' names, as a package install on a host whose DNS points at it.
    /// </summary>
    [Fact]
    public async Task The_documented_verify_commands_for_sites_run_as_written()
    {
        PrivateMounts.Require();
        string operations = File.ReadAllText(Path.Combine(Processes.RepositoryRoot(), "docs/operations.md"));
        var section = operations[operations.IndexOf("**With sites**", StringComparison.Ordinal)..];
        var commands = Regex.Match(section, "```sh\n(.*?)```", RegexOptions.Singleline).Groups[1].Value
            .Split('\n').Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).ToList();
        Assert.Equal(["openalgo-appliance verify", "openalgo-appliance verify one.example.com --api-key KEY"], commands);

        string config = Path.Combine(_dir, "installed.json");
        File.WriteAllText(config, $$"""
            { "Appliance": {
                "Listen": { "Https": "127.0.0.1:443", "Http": "", "Admin": "" },
                "Tls": { "Mode": "SelfSigned" },
                "MarketData": { "Source": "Simulated" },
                "StateDirectory": "{{_dir}}/state", "LogsDirectory": "{{_dir}}/logs",
                "Sites": {
                  "one": { "Tls": { "Domains": ["one.example.com"] }, "Listen": { "Internal": "127.0.0.1:8765" },
                           "Auth": { "StaticKeys": [ { "Key": "KEY", "UserId": "one-user", "Broker": "fakebroker" } ] } },
                  "two": { "Tls": { "Domains": ["two.example.com"] }, "Listen": { "Internal": "127.0.0.1:8766" },
                           "Auth": { "StaticKeys": [ { "Key": "two-key", "UserId": "two-user", "Broker": "fakebroker" } ] } }
                } } }
            """);
        string bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        string dll = Path.Combine(AppContext.BaseDirectory, "openalgo-appliance.dll");
        File.WriteAllText(Path.Combine(bin, "openalgo-appliance"), $"#!/bin/sh\nexec dotnet {dll} \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "openalgo-appliance"), (UnixFileMode)Convert.ToInt32("755", 8));
        string home = Path.Combine(_dir, "home"); // an operator's directory: no appsettings*.json
        Directory.CreateDirectory(home);
        string[] wrapper = PrivateMounts.Wrapper(Path.Combine(_dir, "ns"), ["/etc"], $$"""
            ip link set lo up
            mkdir -p /etc/openalgo-appliance
            cp {{config}} /etc/openalgo-appliance/appsettings.Production.json
            echo '127.0.0.1 one.example.com two.example.com' >> /etc/hosts
            dotnet {{dll}} run > {{_dir}}/run.log 2>&1 &
            appliance=$!
            trap 'kill $appliance; wait $appliance' EXIT
            for i in $(seq 600); do grep -q ' ready: ' {{_dir}}/run.log && break; sleep 0.1; done
            i=0
            while [ $# -gt 0 ]; do
              i=$((i + 1))
              set +e
              sh -c "$1" > {{_dir}}/verify$i.log 2>&1
              echo $? > {{_dir}}/verify$i.exit
              set -e
              shift
            done
            exit 0
            """, out _);
        var start = new ProcessStartInfo(wrapper[0]) { WorkingDirectory = home, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--net");
        foreach (var part in wrapper.Skip(1)) start.ArgumentList.Add(part);
        foreach (var command in commands) start.ArgumentList.Add(command); // run one by one by the script, which then exits

        start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Appliance__", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        using (var process = Process.Start(start)!)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
            Assert.True(process.ExitCode == 0, await stdout + await stderr + File.ReadAllText(Path.Combine(_dir, "run.log")));
        }

        // What command N printed; it exited 0.
        string Succeeded(int n)
        {
            string output = File.ReadAllText(Path.Combine(_dir, $"verify{n}.log"));
            Assert.True(File.ReadAllText(Path.Combine(_dir, $"verify{n}.exit")).Trim() == "0", commands[n - 1] + ":\n" + output);
            return output;
        }

        string every = Succeeded(1);
        Assert.Contains("site one: https://one.example.com/\n", every);
        Assert.Contains("PASS site one answered one.example.com: its certificate covers the name\n", every);
        Assert.Contains("site two: https://two.example.com/\n", every);
        Assert.Contains("PASS site two answered two.example.com: its certificate covers the name\n", every);
        Assert.EndsWith("verify: OK", every.Trim());

        string one = Succeeded(2);
        Assert.Contains("PASS TLS handshake with one.example.com:443: Tls1", one);
        Assert.Contains("PASS site one answered one.example.com: its certificate covers the name\n", one);
        Assert.Contains("PASS authenticate: {\"type\": \"auth\", \"status\": \"success\"", one);
        Assert.Contains("\"user_id\": \"one-user\"", one);
        Assert.DoesNotContain("site two", one);
    }
}
