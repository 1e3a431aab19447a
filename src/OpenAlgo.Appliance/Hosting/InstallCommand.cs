using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.Proxy;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>install --domain D [--email E] --accept-terms [--upstream U]</c> and <c>uninstall</c> for the
/// single-file release: the binary copies itself to /usr/bin, writes the configuration (unless one
/// exists: the domain, the CA contact and terms, and where OpenAlgo's web app listens — derived from
/// OpenAlgo's installers' layout when not given) and the systemd units it carries, creates the
/// service user with systemd-sysusers and starts the service. Several OpenAlgo instances are several
/// sites: <c>--site NAME --domain D [--upstream U]</c> once per instance (<see cref="InstallSites"/>)
/// writes an <c>Appliance:Sites</c> configuration laid out as install-multi.sh numbers its instances.
/// <c>--root DIR</c> stages everything under DIR (and looks for OpenAlgo there) without touching the
/// running system (packaging, tests).
/// </summary>
/// <param name="input">The terminal to ask on; null when nobody can answer (stdin redirected).</param>
internal sealed class InstallCommand(TextWriter output, TextWriter error, TextReader? input = null)
{
    public const string Binary = "usr/bin/openalgo-appliance";
    public const string ConfigFile = "etc/openalgo-appliance/appsettings.Production.json";
    public const string UnitDirectory = "etc/systemd/system";
    public const string SysusersFile = "usr/lib/sysusers.d/openalgo-appliance.conf";

    /// <summary>Where the CA's terms are, for the question and the error (the default CA is Let's Encrypt).</summary>
    public const string LetsEncryptTerms = "https://letsencrypt.org/repository/";

    /// <summary>One implicit site (no <c>Sites</c> section): what install wrote before sites existed.</summary>
    public int Install(string? domain, string? email, string root, bool start, string? upstream = null, bool acceptTerms = false) =>
        Install([new InstallSite(null, domain is null ? [] : [domain], upstream)], email, root, start, acceptTerms);

    public int Install(IReadOnlyList<InstallSite> sites, string? email, string root, bool start, bool acceptTerms = false)
    {
        bool live = root == "/";
        if (live && Environment.UserName != "root")
        {
            error.WriteLine("install: run as root (sudo ./openalgo-appliance install --domain D --accept-terms).");
            return 1;
        }
        var domains = sites.SelectMany(s => s.Domains).ToList();
        foreach (var domain in domains)
        {
            if (Uri.CheckHostName(domain) != UriHostNameType.Dns)
            {
                error.WriteLine($"install: --domain '{domain}' is not a host name. Fix: pass a bare name such as trade.example.com.");
                return 1;
            }
        }
        if (domains.GroupBy(d => d.TrimEnd('.'), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            var owners = sites.Where(s => s.Domains.Any(d => d.TrimEnd('.').Equals(twice.Key, StringComparison.OrdinalIgnoreCase))).Select(s => s.Name).Distinct().ToList();
            error.WriteLine(owners.Count > 1
                ? $"install: --domain {twice.Key} is given for sites {string.Join(" and ", owners)}. Fix: a host name belongs to one site: give it to one of them."
                : $"install: --domain {twice.Key} is given twice. Fix: give each host name once.");
            return 1;
        }
        foreach (var upstream in sites.Select(s => s.Upstream).OfType<string>())
        {
            if (!FlaskAddress.TryParse(upstream, out _))
            {
                error.WriteLine($"install: --upstream '{upstream}' is not where a web app listens. Fix: pass OpenAlgo's gunicorn socket as unix:/var/python/openalgo/openalgo.sock, or http://127.0.0.1:5000.");
                return 1;
            }
        }

        // Everything that can refuse is decided before anything is written.
        string config = Path.Combine(root, ConfigFile);
        bool writeConfig = !File.Exists(config);
        IReadOnlyList<PlannedSite>? planned = null;
        if (writeConfig)
        {
            if ((domains.Count > 0 || email is not null) && !acceptTerms && !(acceptTerms = AskTerms()))
            {
                error.WriteLine("install: the certificate authority issues no certificate until its terms of service are accepted, and install does not accept them for you. " +
                    $"Fix: read them ({LetsEncryptTerms} for Let's Encrypt) and add --accept-terms.");
                return 1;
            }
            planned = sites[0].Name is null ? PlanImplicit(root, sites[0]) : PlanSites(root, sites);
            if (planned is null) return 1;
        }

        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find my own executable");
        string target = Path.Combine(root, Binary);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (Path.GetFileName(self) != "openalgo-appliance")
        {
            output.WriteLine($"not a native build ({self}); {target} not written — install from the release binary");
        }
        else if (!string.Equals(Path.GetFullPath(self), Path.GetFullPath(target), StringComparison.Ordinal))
        {
            File.Copy(self, target + ".new", overwrite: true);
            File.SetUnixFileMode(target + ".new", (UnixFileMode)Convert.ToInt32("755", 8));
            File.Move(target + ".new", target, overwrite: true);
            output.WriteLine($"installed {target}");
        }

        if (!writeConfig)
        {
            output.WriteLine($"kept existing {config}" + (sites.Any(s => s.Upstream is not null) || acceptTerms || email is not null ? " (the options given for it were not applied: edit it)" : ""));
        }
        else
        {
            WriteConfiguration(config, planned!, email, acceptTerms);
        }

        foreach (var name in UnitNames)
        {
            string path = Path.Combine(root, UnitDirectory, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.WriteAllText(path, Resource("systemd/" + name).Replace("/usr/bin/openalgo-appliance", "/" + Binary, StringComparison.Ordinal),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            output.WriteLine($"wrote {path}");
        }
        string sysusers = Path.Combine(root, SysusersFile);
        Directory.CreateDirectory(Path.GetDirectoryName(sysusers)!);
        AtomicFile.WriteAllText(sysusers, Resource("systemd/openalgo-appliance.sysusers"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        if (!live)
        {
            output.WriteLine($"staged under {root}; nothing started");
            return 0;
        }
        if (Run("systemd-sysusers", "openalgo-appliance.conf") != 0) return Failed("systemd-sysusers");
        if (Run("systemctl", "daemon-reload") != 0) return Failed("systemctl daemon-reload");
        if (!start || domains.Count == 0)
        {
            output.WriteLine("not started: set Tls:Domains in " + config + ", then: systemctl enable --now openalgo-appliance");
            return 0;
        }
        if (Run("systemctl", "enable", "--now", "openalgo-appliance.service") != 0) return Failed("systemctl enable --now");
        if (sites[0].Name is null)
        {
            output.WriteLine("started: systemctl status openalgo-appliance; check with: openalgo-appliance verify https://" + domains[0] + "/");
            output.WriteLine("market data comes from OpenAlgo's own proxy at ws://127.0.0.1:8766: set WEBSOCKET_PORT='8766' in OpenAlgo's .env and restart OpenAlgo");
        }
        else
        {
            output.WriteLine("started: systemctl status openalgo-appliance; check every site with: openalgo-appliance verify");
            output.WriteLine("market data comes from each site's own OpenAlgo proxy: set WEBSOCKET_PORT in each instance's .env as listed above (MarketData:OpenAlgoUpstreamUrl) and restart those instances");
        }
        return 0;
    }

    /// <summary>A site as the configuration will hold it: its keys, each with the value and where it came from.</summary>
    private sealed record PlannedSite(InstallSite Site, (string Value, string Why) FlaskApp, (int Port, string Why)? Internal = null, int? OpenAlgoProxyPort = null);

    /// <summary>The one implicit site: the sample's listeners and proxy URL, the Flask app found or given.</summary>
    private PlannedSite[]? PlanImplicit(string root, InstallSite site)
    {
        var flaskApp = site.Upstream is not null ? (site.Upstream, "--upstream") : DeriveFlaskApp(root, site.Domains.FirstOrDefault());
        return flaskApp is null ? null : [new PlannedSite(site, flaskApp.Value)];
    }

    /// <summary>
    /// Named sites, as install-multi.sh numbers its instances: site i (from 1) gets the internal
    /// listener 127.0.0.1:8765+i−1 (its instance's WEBSOCKET_PORT, where its SDK clients connect) —
    /// or that of the install-multi.sh instance found for its domains — and its OpenAlgo proxy moves
    /// to the first free port from 8766 (as <c>migrate</c> chooses); its Flask app is found per site,
    /// else install-multi.sh's FLASK_PORT 5000+i−1. Two sites on one Flask app are refused.
    /// </summary>
    private PlannedSite[]? PlanSites(string root, IReadOnlyList<InstallSite> sites)
    {
        var flaskApps = new (string Value, string Why, int? Instance)[sites.Count];
        for (int i = 0; i < sites.Count; i++)
        {
            var site = sites[i];
            if (site.Upstream is not null)
            {
                flaskApps[i] = (site.Upstream, "--upstream", null);
                continue;
            }
            var found = site.Domains.SelectMany(d => FlaskAppDiscovery.Find(root, d)).DistinctBy(f => f.Upstream).ToList();
            // A deployment found by this site's names beats the one install.sh deployment any domain matches.
            var own = found.Where(f => f.Upstream != "unix:" + FlaskAppDiscovery.InstallShSocket).ToList();
            var candidates = own.Count > 0 ? own : found;
            if (candidates.Count > 1)
            {
                error.WriteLine($"install: {candidates.Count} OpenAlgo deployments could serve site {site.Name} ({string.Join(", ", site.Domains)}): {string.Join(", ", candidates.Select(f => f.Upstream))}. " +
                    $"Fix: pick one with --upstream after --site {site.Name}.");
                return null;
            }
            int port = 5000 + i;
            flaskApps[i] = candidates.Count == 1
                ? (candidates[0].Upstream, $"found {candidates[0].Why}; change with --upstream after --site {site.Name}", candidates[0].MultiInstance)
                : ($"http://127.0.0.1:{port}", $"no OpenAlgo installer layout for {site.Domains[0]} under /var/python: install-multi.sh's FLASK_PORT for instance {i + 1}; change with --upstream after --site {site.Name}", null);
        }
        for (int a = 0; a < sites.Count; a++)
        {
            for (int b = a + 1; b < sites.Count; b++)
            {
                if (flaskApps[a].Value == flaskApps[b].Value)
                {
                    error.WriteLine($"install: sites {sites[a].Name} and {sites[b].Name} would both proxy to {flaskApps[a].Value}: each site is one OpenAlgo instance with its own web app. " +
                        $"Fix: give each site its instance's gunicorn socket or port with --upstream after its --site, or serve both names from one site (several --domain after one --site).");
                    return null;
                }
            }
        }

        // Internal listeners: install-multi.sh instances keep their WEBSOCKET_PORT; the others take their position's, or the next free one.
        var internals = new (int Port, string Why)?[sites.Count];
        var taken = new HashSet<int>();
        for (int i = 0; i < sites.Count; i++)
        {
            if (flaskApps[i].Instance is int instance && taken.Add(8765 + instance - 1))
            {
                internals[i] = (8765 + instance - 1, $"install-multi.sh's WEBSOCKET_PORT of instance {instance}, where its clients connect");
            }
        }
        for (int i = 0; i < sites.Count; i++)
        {
            if (internals[i] is not null) continue;
            int port = 8765 + i;
            string why = $"OpenAlgo's WEBSOCKET_PORT for instance {i + 1}, where its clients connect";
            if (!taken.Add(port))
            {
                port = 8765;
                while (!taken.Add(port)) port++;
                why = "the next free port from 8765: set WEBSOCKET_PORT to it where this instance's clients read it";
            }
            internals[i] = (port, why);
        }
        var planned = new PlannedSite[sites.Count];
        int proxy = 8766;
        for (int i = 0; i < sites.Count; i++)
        {
            while (taken.Contains(proxy)) proxy++;
            taken.Add(proxy);
            planned[i] = new PlannedSite(sites[i], (flaskApps[i].Value, flaskApps[i].Why), internals[i], proxy);
        }
        return planned;
    }

    /// <summary>The sample configuration with the sites filled in, written atomically; what each site got is printed with where it came from.</summary>
    private void WriteConfiguration(string config, IReadOnlyList<PlannedSite> planned, string? email, bool acceptTerms)
    {
        var json = JsonNode.Parse(Resource("appsettings.Production.json"))!;
        var appliance = json["Appliance"]!.AsObject();
        var tls = appliance["Tls"]!.AsObject();
        var acme = tls["Acme"] as JsonObject ?? new JsonObject();
        tls["Acme"] = acme;
        if (email is not null) acme["Email"] = email;
        if (acceptTerms) acme["AcceptTermsOfService"] = true;
        var lines = new List<string>();
        if (planned[0].Site.Name is null)
        {
            var site = planned[0];
            if (site.Site.Domains.Count > 0) tls["Domains"] = new JsonArray(site.Site.Domains.Select(d => (JsonNode?)d).ToArray());
            var proxy = appliance["Proxy"] as JsonObject ?? new JsonObject();
            appliance["Proxy"] = proxy;
            proxy["Upstream"] = site.FlaskApp.Value;
            lines.Add($"  Proxy:Upstream = {site.FlaskApp.Value} ({site.FlaskApp.Why})");
        }
        else
        {
            // What differs per instance lives in its site; the rest stays at the top, written once.
            appliance["Listen"]!.AsObject().Remove("Internal");
            tls.Remove("Domains");
            appliance["MarketData"]!.AsObject().Remove("OpenAlgoUpstreamUrl");
            var sitesNode = new JsonObject();
            foreach (var site in planned)
            {
                string name = site.Site.Name!;
                string upstreamUrl = $"ws://127.0.0.1:{site.OpenAlgoProxyPort}";
                sitesNode[name] = new JsonObject
                {
                    ["Tls"] = new JsonObject { ["Domains"] = new JsonArray(site.Site.Domains.Select(d => (JsonNode?)d).ToArray()) },
                    ["Listen"] = new JsonObject { ["Internal"] = $"127.0.0.1:{site.Internal!.Value.Port}" },
                    ["Proxy"] = new JsonObject { ["Upstream"] = site.FlaskApp.Value },
                    ["MarketData"] = new JsonObject { ["OpenAlgoUpstreamUrl"] = upstreamUrl },
                };
                lines.Add($"  site {name}: {string.Join(", ", site.Site.Domains)}");
                lines.Add($"    Proxy:Upstream = {site.FlaskApp.Value} ({site.FlaskApp.Why})");
                lines.Add($"    Listen:Internal = 127.0.0.1:{site.Internal!.Value.Port} ({site.Internal.Value.Why})");
                lines.Add($"    MarketData:OpenAlgoUpstreamUrl = {upstreamUrl} (its OpenAlgo's own proxy moves here: set WEBSOCKET_PORT='{site.OpenAlgoProxyPort}' in that instance's .env)");
            }
            appliance["Sites"] = sitesNode;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            json.WriteTo(writer);
        }
        AtomicFile.WriteAllText(config, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n",
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        output.WriteLine($"wrote {config}");
        foreach (var line in lines) output.WriteLine(line);
    }

    public int Uninstall(string root, bool purge)
    {
        bool live = root == "/";
        if (live)
        {
            Run("systemctl", ["disable", "--now", .. UnitNames]);
        }
        foreach (var name in UnitNames) Delete(Path.Combine(root, UnitDirectory, name));
        Delete(Path.Combine(root, SysusersFile));
        Delete(Path.Combine(root, Binary));
        if (live) Run("systemctl", "daemon-reload");
        if (purge)
        {
            foreach (var dir in new[] { "etc/openalgo-appliance", "var/lib/openalgo-appliance", "var/log/openalgo-appliance" })
            {
                string path = Path.Combine(root, dir);
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
            if (live) Run("userdel", "openalgo-appliance");
        }
        output.WriteLine(purge ? "uninstalled and purged" : "uninstalled (configuration, state and logs kept; --purge removes them)");
        return 0;
    }

    public static readonly string[] UnitNames =
    [
        "openalgo-appliance.service",
        "openalgo-appliance-https.socket",
        "openalgo-appliance-http.socket",
        "openalgo-appliance-internal.socket",
    ];

    /// <summary>Asks on the terminal when there is one; false when nobody can answer.</summary>
    private bool AskTerms()
    {
        if (input is null) return false;
        output.Write($"The certificate authority (Let's Encrypt unless Tls:Acme:DirectoryUrl says otherwise) issues certificates under its terms of service: {LetsEncryptTerms}\nDo you accept them? [y/N] ");
        output.Flush();
        string? answer = input.ReadLine()?.Trim();
        return answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// <c>Proxy:Upstream</c> from OpenAlgo's installers' layout (<see cref="FlaskAppDiscovery"/>), or
    /// OpenAlgo's default port; null (after saying why) when several deployments match.
    /// </summary>
    private (string Value, string Why)? DeriveFlaskApp(string root, string? domain)
    {
        var found = FlaskAppDiscovery.Find(root, domain);
        if (found.Count == 1) return (found[0].Upstream, "found " + found[0].Why + "; change with --upstream");
        if (found.Count > 1)
        {
            error.WriteLine($"install: {found.Count} OpenAlgo deployments could serve {domain}: {string.Join(", ", found.Select(f => f.Upstream))}. Fix: pick one with --upstream.");
            return null;
        }
        return (FlaskAppDiscovery.DefaultTcp, "no OpenAlgo install.sh layout under /var/python: OpenAlgo's default port; change with --upstream");
    }

    private void Delete(string path)
    {
        if (!File.Exists(path)) return;
        File.Delete(path);
        output.WriteLine($"removed {path}");
    }

    private int Failed(string step)
    {
        error.WriteLine($"install: {step} failed");
        return 1;
    }

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name) ?? throw new InvalidOperationException($"resource {name} missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private int Run(string file, params string[] args) => SystemCommand.Run(error, file, args);
}
