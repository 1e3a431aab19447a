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
/// service user with systemd-sysusers and starts the service. <c>--root DIR</c> stages everything
/// under DIR (and looks for OpenAlgo there) without touching the running system (packaging, tests).
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

    public int Install(string? domain, string? email, string root, bool start, string? upstream = null, bool acceptTerms = false)
    {
        bool live = root == "/";
        if (live && Environment.UserName != "root")
        {
            error.WriteLine("install: run as root (sudo ./openalgo-appliance install --domain D --accept-terms).");
            return 1;
        }
        if (domain is not null && Uri.CheckHostName(domain) != UriHostNameType.Dns)
        {
            error.WriteLine($"install: --domain '{domain}' is not a host name. Fix: pass a bare name such as trade.example.com.");
            return 1;
        }
        if (upstream is not null && !FlaskAddress.TryParse(upstream, out _))
        {
            error.WriteLine($"install: --upstream '{upstream}' is not where a web app listens. Fix: pass OpenAlgo's gunicorn socket as unix:/var/python/openalgo/openalgo.sock, or http://127.0.0.1:5000.");
            return 1;
        }

        // Everything that can refuse is decided before anything is written.
        string config = Path.Combine(root, ConfigFile);
        bool writeConfig = !File.Exists(config);
        (string Value, string Why)? flaskApp = null;
        if (writeConfig)
        {
            if ((domain is not null || email is not null) && !acceptTerms && !(acceptTerms = AskTerms()))
            {
                error.WriteLine("install: the certificate authority issues no certificate until its terms of service are accepted, and install does not accept them for you. " +
                    $"Fix: read them ({LetsEncryptTerms} for Let's Encrypt) and add --accept-terms.");
                return 1;
            }
            flaskApp = upstream is not null ? (upstream, "--upstream") : DeriveFlaskApp(root, domain);
            if (flaskApp is null) return 1;
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
            output.WriteLine($"kept existing {config}" + (upstream is not null || acceptTerms || email is not null ? " (the options given for it were not applied: edit it)" : ""));
        }
        else
        {
            var json = JsonNode.Parse(Resource("appsettings.Production.json"))!;
            var appliance = json["Appliance"]!.AsObject();
            var tls = appliance["Tls"]!.AsObject();
            var acme = tls["Acme"] as JsonObject ?? new JsonObject();
            tls["Acme"] = acme;
            if (domain is not null) tls["Domains"] = new JsonArray(domain);
            if (email is not null) acme["Email"] = email;
            if (acceptTerms) acme["AcceptTermsOfService"] = true;
            var proxy = appliance["Proxy"] as JsonObject ?? new JsonObject();
            appliance["Proxy"] = proxy;
            proxy["Upstream"] = flaskApp!.Value.Value;
            Directory.CreateDirectory(Path.GetDirectoryName(config)!);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
            {
                json.WriteTo(writer);
            }
            AtomicFile.WriteAllText(config, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n",
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            output.WriteLine($"wrote {config}");
            output.WriteLine($"  Proxy:Upstream = {flaskApp.Value.Value} ({flaskApp.Value.Why})");
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
        if (!start || domain is null)
        {
            output.WriteLine("not started: set Tls:Domains in " + config + ", then: systemctl enable --now openalgo-appliance");
            return 0;
        }
        if (Run("systemctl", "enable", "--now", "openalgo-appliance.service") != 0) return Failed("systemctl enable --now");
        output.WriteLine("started: systemctl status openalgo-appliance; check with: openalgo-appliance verify https://" + domain + "/");
        output.WriteLine("market data comes from OpenAlgo's own proxy at ws://127.0.0.1:8766: set WEBSOCKET_PORT='8766' in OpenAlgo's .env and restart OpenAlgo");
        return 0;
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
