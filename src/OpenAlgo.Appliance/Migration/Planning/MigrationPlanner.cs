using System.Globalization;
using OpenAlgo.Appliance.Migration.Discovery;
using OpenAlgo.Appliance.Migration.Nginx;

namespace OpenAlgo.Appliance.Migration.Planning;

/// <summary>
/// Turns nginx's configuration and the OpenAlgo instances behind it into a <see cref="MigrationPlan"/>:
/// one site per OpenAlgo server block (its port-80 redirect block folded in), every directive
/// accounted for, ports chosen so no two instances and nothing already listening collide.
/// </summary>
internal sealed class MigrationPlanner(SystemRoot root, INginxFiles nginxFiles)
{
    /// <summary>OpenAlgo's proxies move to the first free port from here (install-multi.sh uses 8765 + i − 1).</summary>
    public const int FirstProxyPort = 8766;
    private const int AdminPort = 9765;

    public MigrationPlan Plan()
    {
        var config = NginxConfigReader.Read(nginxFiles);
        var nginx = NginxServers.From(config);
        var units = SystemdUnit.LoadAll(root);
        var locator = new InstanceLocator(root, units);
        var plan = new MigrationPlan { NginxSource = config.Source, NginxFiles = config.Files };

        var redirects = new List<NginxServer>();
        var others = new List<NginxServer>();
        var openAlgo = new List<(NginxServer Server, ProxyTarget Flask, OpenAlgoInstance Instance)>();
        foreach (var server in nginx.Servers)
        {
            if (server.Context != "http")
            {
                others.Add(server);
                continue;
            }
            var home = server.Locations.FirstOrDefault(l => l.Is("", "/"));
            var pass = home?.Own.FirstOrDefault(d => d.Name == "proxy_pass");
            bool openAlgoShape = server.Locations.Any(l => l.Is("=", "/ws") || l.Is("", "/ws/") || l.Is("", "/socket.io/") && l.Own.Any(d => d.Name == "proxy_pass"));
            if (pass is not null)
            {
                var target = ProxyTarget.Parse(pass.Arg, nginx.Upstreams);
                if (target.Unresolved is not null)
                {
                    if (openAlgoShape) plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server), $"location / proxies to {pass.Arg} ({target.Unresolved}): cannot tell which OpenAlgo runs behind it", true));
                    else others.Add(server);
                    continue;
                }
                var instance = locator.Find(target, out string? problem);
                if (instance is not null)
                {
                    openAlgo.Add((server, target, instance));
                    continue;
                }
                if (openAlgoShape)
                {
                    plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server), problem!, true));
                    continue;
                }
                others.Add(server);
                continue;
            }
            if (RedirectOf(server) is not null) redirects.Add(server);
            else others.Add(server);
        }

        // One site per instance: its HTTPS server block (a second block for the same instance on
        // plain HTTP only is folded in as serving HTTP, which the appliance redirects instead).
        var allInstances = locator.All().ToList();
        foreach (var group in openAlgo.GroupBy(o => o.Instance.Unit.Name))
        {
            var blocks = group.ToList();
            var tls = blocks.Where(b => b.Server.ListensSsl).ToList();
            if (tls.Count > 1 && tls.Select(t => t.Server.Directive.Child("ssl_certificate")?.Arg).Distinct().Count() > 1)
            {
                foreach (var b in tls) plan.NotMigrated.Add(new Unmigrated(b.Server.Where, Describe(b.Server), $"{tls.Count} server blocks with different certificates serve {group.Key}; the appliance gives one OpenAlgo instance one site and one certificate", true));
                continue;
            }
            var main = tls.Count > 0 ? tls[0] : blocks[0];
            var site = PlanSite(plan, main.Server, main.Flask, main.Instance, nginx, blocks.Where(b => b.Server != main.Server).Select(b => b.Server).ToList());
            if (site is not null) plan.Sites.Add(site);
        }

        // Instance order (install-multi.sh's 1, 2, 3 are 8765, 8766, 8767), not file-name order: the
        // moved proxies then get their new ports in the same order.
        var ordered = plan.Sites.OrderBy(s => s.Instance.WebSocketPort).ThenBy(s => s.Instance.Unit.Name, StringComparer.Ordinal).ToList();
        plan.Sites.Clear();
        plan.Sites.AddRange(ordered);
        AttachRedirects(plan, redirects, others);
        ClassifyOthers(plan, others);
        ChooseListen(plan);
        NoteDefaultServers(plan);
        ChoosePorts(plan, allInstances);
        ReportUnservedInstances(plan, allInstances);
        PlanCertbot(plan);
        PlanAcme(plan);
        CheckHttpContext(plan, nginx);
        CheckPreviousMigration(plan);
        plan.ConfigurationJson = ConfigurationWriter.Write(plan, ExistingConfiguration());
        return plan;
    }

    private SitePlan? PlanSite(MigrationPlan plan, NginxServer server, ProxyTarget flask, OpenAlgoInstance instance, NginxServers nginx, List<NginxServer> alsoPlain)
    {
        var domains = server.ExactNames.Distinct().ToList();
        var inexact = server.Names.Where(n => n is not ("_" or "") && !NginxServer.IsExactName(n)).ToList();
        if (inexact.Count > 0)
        {
            plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server), $"server_name {string.Join(' ', inexact)}: the appliance serves exact host names only", true));
            return null;
        }
        if (domains.Count == 0)
        {
            plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server), "serves OpenAlgo without a server_name: the appliance routes by host name; name the domain in server_name", true));
            return null;
        }
        var proxyProtocol = server.Listens.FirstOrDefault(l => l.ProxyProtocol);
        if (proxyProtocol is not null)
        {
            plan.NotMigrated.Add(new Unmigrated(proxyProtocol.Directive.Where, proxyProtocol.Directive.Text, "a load balancer sends the PROXY protocol here; the appliance does not read it", true));
            return null;
        }

        var site = new SitePlan
        {
            Name = SiteName(domains[0], plan.Sites),
            Server = server,
            Domains = domains,
            Instance = instance,
            Flask = flask,
        };
        foreach (var plain in alsoPlain)
        {
            site.Lines.Add(("note", $"{plain.Where}: served OpenAlgo over plain HTTP as well; the appliance redirects HTTP to HTTPS instead"));
            site.Redirects.Add(plain);
        }

        AnalyzeServer(plan, site, nginx);
        AnalyzeCertificate(plan, site);
        ConfigurationWriter.CarryEnvironment(site);
        CheckSocketAccess(site);
        if (!server.ListensSsl)
        {
            site.Lines.Add(("note", $"{server.Where}: nginx served this site over plain HTTP only; the appliance serves it over HTTPS and redirects HTTP"));
        }
        return site;
    }

    private static void AnalyzeServer(MigrationPlan plan, SitePlan site, NginxServers nginx)
    {
        var server = site.Server;
        var seen = new Covered();
        foreach (var directive in server.ServerDirectives)
        {
            switch (directive.Name)
            {
                case "listen" or "server_name" or "location" or "ssl_certificate" or "ssl_certificate_key":
                    break;
                default:
                    ClassifyDirective(plan, site, directive, seen, "server");
                    break;
            }
        }

        bool sawSocketIo = false;
        foreach (var location in server.Locations)
        {
            if (location.Parent is not null)
            {
                plan.NotMigrated.Add(new Unmigrated(location.Where, location.Text, $"a nested location inside {location.Parent.Text}: the appliance has no equivalent", true));
                continue;
            }
            var pass = location.Own.FirstOrDefault(d => d.Name == "proxy_pass");
            var target = pass is null ? null : ProxyTarget.Parse(pass.Arg, nginx.Upstreams);
            if (location.Is("=", "/ws") || location.Is("", "/ws/") || location.Is("^~", "/ws/"))
            {
                if (target is null || target.Unresolved is not null || !target.IsLoopbackTcp)
                {
                    plan.NotMigrated.Add(new Unmigrated(location.Where, location.Text, pass is null ? "does not proxy to OpenAlgo's proxy" : $"proxies to {pass.Arg}, not to an OpenAlgo proxy on this machine", true));
                    continue;
                }
                site.WebSocketLocations.Add(location.Text);
                site.NginxWebSocketPort ??= target.Port;
                if (target.Port != site.NginxWebSocketPort)
                {
                    plan.NotMigrated.Add(new Unmigrated(location.Where, location.Text, $"proxies to port {target.Port}, another location of the site to {site.NginxWebSocketPort}", true));
                }
                ClassifyLocation(plan, site, location, "ws", seen);
                continue;
            }
            if (location.Is("", "/") || location.Is("", "/socket.io/") || location.Is("^~", "/socket.io/"))
            {
                if (target is null || !target.SameDestination(site.Flask))
                {
                    plan.NotMigrated.Add(new Unmigrated(location.Where, location.Text, pass is null
                        ? "does not proxy to OpenAlgo's web app"
                        : $"a second upstream ({pass.Arg}, while location / goes to {site.Flask}): the appliance sends every path but /ws to one", true));
                    continue;
                }
                if (RewritesPath(plan, location, target)) continue;
                sawSocketIo |= location.Uri == "/socket.io/";
                site.FlaskLocations.Add(location.Text);
                ClassifyLocation(plan, site, location, location.Uri == "/" ? "flask" : "socketio", seen);
                continue;
            }
            if (location.Uri.StartsWith("/.well-known/acme-challenge", StringComparison.Ordinal) && pass is null)
            {
                site.Lines.Add(("replaced", $"{location.Where} {location.Text} → the appliance answers ACME HTTP-01 challenges itself"));
                continue;
            }
            if (target is not null && target.SameDestination(site.Flask) && location.Modifier is "" or "^~" or "=")
            {
                // A path sent to the same gunicorn (e.g. /mcp): location / already does that.
                if (RewritesPath(plan, location, target)) continue;
                site.FlaskLocations.Add(location.Text);
                ClassifyLocation(plan, site, location, "flask", seen);
                continue;
            }
            plan.NotMigrated.Add(new Unmigrated(location.Where, location.Text, pass is null
                ? "a custom location (" + string.Join("; ", location.Own.Select(d => d.Text).Take(3)) + "): the appliance sends every path but /ws to OpenAlgo"
                : $"a second upstream ({pass.Arg}): the appliance sends every path but /ws to {site.Flask}", true));
        }
        if (!sawSocketIo)
        {
            site.Lines.Add(("note", "nginx had no location /socket.io/ (installs before April 2026 sent it through location /); the appliance proxies Socket.IO, WebSocket transport included"));
        }
        if (site.WebSocketLocations.Count == 0)
        {
            site.Lines.Add(("note", "nginx had no location /ws: the appliance adds wss://" + site.Domains[0] + "/ws for this site"));
        }
        var http2 = server.Listens.Where(l => l.Http2).Select(l => l.Directive).Concat(seen.Http2).ToList();
        if (http2.Count > 0)
        {
            site.Lines.Add(("replaced", $"{http2[0].Where} {string.Join(", ", http2.Select(d => d.Text).Distinct())} → HTTP/1.1: the appliance offers only HTTP/1.1 in ALPN (browsers and the SDK negotiate it; nginx upgraded WebSockets over HTTP/1.1 as well)"));
        }
        var http3 = server.Listens.Where(l => l.Quic).Select(l => l.Directive).Concat(seen.Http3).ToList();
        if (http3.Count > 0) plan.NotMigrated.Add(Http3(http3));
        if (seen.Tls.Count > 0) site.Lines.Add(("replaced", $"{string.Join(", ", seen.Tls.Distinct())} → the appliance's own TLS policy (Mozilla intermediate: TLS 1.2/1.3, ECDHE+AEAD, session resumption)"));
        if (seen.Headers.Count > 0)
        {
            bool xss = seen.Headers.Any(h => h.Equals("X-XSS-Protection", StringComparison.OrdinalIgnoreCase));
            site.Lines.Add(("replaced", $"add_header {string.Join(", ", seen.Headers.Distinct(StringComparer.OrdinalIgnoreCase))} → the appliance's own (nosniff, X-Frame-Options DENY on pages, HSTS two years{(xss ? "; X-XSS-Protection left out on purpose: browsers removed the XSS auditor and it can open holes" : "")})"));
        }
        if (seen.Proxy.Count > 0) site.Lines.Add(("replaced", $"{string.Join(", ", seen.Proxy.Distinct())} → the appliance forwards the same headers to OpenAlgo (Host, X-Real-IP, X-Forwarded-For/-Proto/-Host), upgrades WebSockets itself and streams both ways"));
        if (seen.Logging.Count > 0) site.Lines.Add(("replaced", $"{string.Join(", ", seen.Logging.Distinct())} → the appliance's logs (/var/log/openalgo-appliance, journal)"));
    }

    /// <summary>Directives an OpenAlgo server block had that the appliance covers, for the plan's "replaced" lines.</summary>
    private sealed class Covered
    {
        public List<string> Tls { get; } = [];
        public List<NginxDirective> Http2 { get; } = [];
        public List<NginxDirective> Http3 { get; } = [];
        public List<string> Logging { get; } = [];
        public List<string> Headers { get; } = [];
        public List<string> Proxy { get; } = [];
    }

    /// <summary>HTTP/3 is not served; nothing a client needs is lost (they fall back to TCP), so it does not block.</summary>
    private static Unmigrated Http3(List<NginxDirective> directives) => new(directives[0].Where,
        "HTTP/3 (" + string.Join(", ", directives.Select(d => d.Name == "add_header" ? "add_header " + d.Args[0] : d.Text).Distinct()) + ")",
        "the appliance serves HTTP/1.1 over TCP only; browsers that learned h3 from Alt-Svc fall back to TCP by themselves", false);

    /// <summary>
    /// <c>proxy_pass</c> with a URI replaces the location's prefix (<c>location /app/ { proxy_pass http://unix:/s.sock:/; }</c>
    /// sends <c>/app/x</c> as <c>/x</c>): the appliance passes paths unchanged, so only the same prefix maps.
    /// </summary>
    private static bool RewritesPath(MigrationPlan plan, NginxLocation location, ProxyTarget target)
    {
        if (target.Path.Length == 0 || target.Path == location.Uri) return false;
        plan.NotMigrated.Add(new Unmigrated(location.Where, location.Text,
            $"proxy_pass {target.Raw} sends {location.Uri}… to OpenAlgo as {target.Path}…; the appliance passes paths unchanged", true));
        return true;
    }

    private static void ClassifyDirective(MigrationPlan plan, SitePlan site, NginxDirective directive, Covered seen, string level)
    {
        string name = directive.Name;
        if (name == "http2")
        {
            if (directive.Arg == "on") seen.Http2.Add(directive);
            return;
        }
        if (DirectiveRules.Http3.Contains(name) || DirectiveRules.AdvertisesHttp3(directive))
        {
            if (directive.Arg != "off") seen.Http3.Add(directive);
            return;
        }
        if (DirectiveRules.TlsPolicy.Contains(name))
        {
            if (name == "ssl_stapling" && directive.Arg == "on") site.Lines.Add(("replaced", $"{directive.Where} ssl_stapling on → no OCSP stapling (Let's Encrypt ended its OCSP service in 2025)"));
            else seen.Tls.Add(name);
            return;
        }
        if (DirectiveRules.Logging.Contains(name))
        {
            seen.Logging.Add(name);
            return;
        }
        switch (name)
        {
            case "add_header":
                if (DirectiveRules.HeaderGap(directive) is { } gap)
                {
                    bool hsts = directive.Arg.Equals("Strict-Transport-Security", StringComparison.OrdinalIgnoreCase);
                    if (hsts) site.Lines.Add(("warning", $"{directive.Where} {directive.Text}: {gap}"));
                    else plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, gap, true));
                }
                else
                {
                    seen.Headers.Add(directive.Arg);
                }
                return;
            case "client_max_body_size":
                if (DirectiveRules.Size(directive.Arg) is long bytes)
                {
                    long value = bytes == 0 ? long.MaxValue : bytes;
                    site.Settings.Add(("Proxy:MaxRequestBodyBytes", value.ToString(CultureInfo.InvariantCulture), $"{directive.Where} client_max_body_size {directive.Arg}"));
                }
                return;
            case "proxy_set_header":
                if (!DirectiveRules.IsStandardHeader(directive)) plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, "a request header the appliance does not send", true));
                else seen.Proxy.Add("proxy_set_header");
                return;
            case "proxy_redirect":
                if (directive.Arg is not ("off" or "default")) plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, "rewrites redirects from OpenAlgo; the appliance passes them unchanged", true));
                return;
            case "proxy_pass" when level != "server":
                return;
            case "error_page":
                site.Lines.Add(("replaced", $"{directive.Where} {directive.Text} → the appliance's own 502/504 pages while OpenAlgo is down"));
                return;
            case "gzip" or "gzip_types" or "gzip_vary" or "gzip_proxied" or "gzip_comp_level" or "gzip_min_length" or "gzip_http_version" or "gzip_buffers" or "gzip_disable":
                if (name == "gzip" && directive.Arg == "on") site.Lines.Add(("note", $"{directive.Where} gzip on: the appliance passes OpenAlgo's responses as OpenAlgo sends them"));
                return;
            case "expires" or "etag" or "if_modified_since":
                return;
        }
        if (DirectiveRules.ProxyTuning.Contains(name))
        {
            if (name.StartsWith("proxy_", StringComparison.Ordinal)) seen.Proxy.Add(name);
            return;
        }
        plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, $"{name}: the appliance has no equivalent", true));
    }

    private static void ClassifyLocation(MigrationPlan plan, SitePlan site, NginxLocation location, string kind, Covered seen)
    {
        foreach (var directive in location.Own)
        {
            if (directive.Name == "proxy_pass") continue;
            if (directive.Name == "proxy_read_timeout" && DirectiveRules.Seconds(directive.Arg) is double seconds)
            {
                var (key, fallback) = kind switch
                {
                    "flask" => ("Proxy:ReadTimeoutSeconds", 300d),
                    "socketio" => ("Proxy:UpgradeIdleTimeoutSeconds", 86400d),
                    _ => ("Limits:IdleTimeoutSeconds", 86400d),
                };
                if (seconds != fallback && !site.Settings.Any(s => s.Key == key))
                {
                    site.Settings.Add((key, seconds.ToString(CultureInfo.InvariantCulture), $"{directive.Where} proxy_read_timeout {directive.Arg}"));
                }
                seen.Proxy.Add("proxy_read_timeout");
                continue;
            }
            ClassifyDirective(plan, site, directive, seen, "location");
        }
    }

    private void AnalyzeCertificate(MigrationPlan plan, SitePlan site)
    {
        var server = site.Server;
        var certificates = server.Directive.Children("ssl_certificate").ToList();
        var keys = server.Directive.Children("ssl_certificate_key").ToList();
        if (certificates.Count == 0)
        {
            site.CertificateHandling = CertificateHandling.IssueAcme;
            site.Lines.Add(("note", "nginx served no certificate for this site: the appliance obtains one with ACME (HTTP-01 on port 80) when it starts"));
            return;
        }
        if (certificates.Count > 1)
        {
            site.Lines.Add(("note", $"{certificates[1].Where}: nginx had {certificates.Count} certificates (RSA and ECDSA); the appliance imports the first and renews with ECDSA P-256"));
        }
        if (keys.Count == 0)
        {
            plan.NotMigrated.Add(new Unmigrated(certificates[0].Where, certificates[0].Text, "no ssl_certificate_key next to it", true));
            return;
        }
        var lineage = CertbotLineage.Read(root, certificates[0].Arg, keys[0].Arg);
        site.Certificate = lineage;
        if (lineage.Problem is not null)
        {
            plan.NotMigrated.Add(new Unmigrated(certificates[0].Where, certificates[0].Text, $"cannot read the certificate: {lineage.Problem}", true));
            return;
        }
        var uncovered = site.Domains.Where(d => !lineage.Covers(d)).ToList();
        if (uncovered.Count > 0)
        {
            plan.NotMigrated.Add(new Unmigrated(certificates[0].Where, certificates[0].Text,
                $"the certificate does not cover {string.Join(", ", uncovered)} (nginx served those names with a mismatched certificate); extend it (certbot --expand) or take the names out of server_name", true));
            return;
        }
        // Names the certificate covers that nginx served through this block as the default server
        // (install.sh's apex installs certify www.DOMAIN without naming it in server_name).
        foreach (var name in lineage.Names.Where(n => !n.StartsWith("*.", StringComparison.Ordinal) && !site.Domains.Contains(n)))
        {
            site.Domains.Add(name);
            site.Lines.Add(("note", $"{name}: on the certificate but not in server_name (install.sh certifies www. for an apex domain); added to the site's domains so it is served and renewed with it"));
        }
        if (lineage.NotAfter is { } notAfter && notAfter <= DateTime.UtcNow)
        {
            site.CertificateHandling = CertificateHandling.IssueAcme;
            site.Lines.Add(("warning", $"{lineage.CertificateFile} expired on {notAfter:yyyy-MM-dd}: not imported; the appliance obtains a new one when it starts"));
            return;
        }
        if (lineage.IsCertbot && !lineage.NeedsDns)
        {
            site.CertificateHandling = CertificateHandling.ImportAcme;
            return;
        }
        site.CertificateHandling = CertificateHandling.CopyFiles;
        if (lineage.IsCertbot)
        {
            site.Lines.Add(("note", $"certbot renews {lineage.Name} with {lineage.Authenticator ?? "DNS"} (the appliance's ACME client answers HTTP-01 and TLS-ALPN-01 only): served as Tls:Mode=Files from a copy; certbot keeps renewing it and a deploy hook (/etc/letsencrypt/renewal-hooks/deploy/openalgo-appliance-{site.Name}.sh) copies each renewal to the appliance"));
        }
        else
        {
            site.Lines.Add(("note", $"{lineage.CertificateFile} is not certbot's: served as Tls:Mode=Files from a copy the service can read; copy it again when you replace it"));
        }
    }

    /// <summary>
    /// Folds each redirect-only server block into the site that serves its names. On port 80 the
    /// appliance redirects to HTTPS itself (on the same name); on 443 it has no redirect from one name
    /// to another, so those names serve the site. A redirect for names no site serves stays with the
    /// other server blocks (and blocks the apply there).
    /// </summary>
    private static void AttachRedirects(MigrationPlan plan, List<NginxServer> redirects, List<NginxServer> others)
    {
        foreach (var redirect in redirects)
        {
            var names = redirect.ExactNames.ToList();
            var site = plan.Sites.FirstOrDefault(s => names.Count > 0 && names.All(n => s.Domains.Contains(n)));
            if (site is null)
            {
                others.Add(redirect);
                continue;
            }
            site.Redirects.Add(redirect);
            var ret = RedirectOf(redirect)!;
            string? host = RedirectHost(redirect, ret);
            var moved = names.Where(n => host is not null && n != host).ToList();
            if (redirect.ListensSsl)
            {
                plan.NotMigrated.Add(new Unmigrated(redirect.Where, Describe(redirect),
                    $"{ret.Text} sent {string.Join(", ", names)} to {host ?? "itself"}; the appliance has no redirect from one host name to another: {string.Join(", ", names)} serve{(names.Count == 1 ? "s" : "")} site {site.Name} itself (on its certificate)", false));
            }
            else if (moved.Count > 0)
            {
                site.Lines.Add(("note", $"{ret.Where} {ret.Text}: nginx sent http://{string.Join(", http://", moved)} to https://{host}; the appliance redirects HTTP to HTTPS on the name asked for (http://{moved[0]}/… → https://{moved[0]}/…)"));
            }
        }
    }

    /// <summary>
    /// Server blocks that are not OpenAlgo's: kept by nginx when they listen on ports the appliance
    /// leaves alone; a catch-all on the appliance's ports is dropped with a note (the appliance
    /// refuses unknown host names itself); anything else named on those ports blocks the apply.
    /// </summary>
    private void ClassifyOthers(MigrationPlan plan, List<NginxServer> others)
    {
        var appliancePorts = new HashSet<int> { 443, 80 };
        foreach (var site in plan.Sites) foreach (var listen in site.Server.Listens.Concat(site.Redirects.SelectMany(r => r.Listens))) appliancePorts.Add(listen.Port);
        var migratedFiles = plan.Sites.SelectMany(s => s.Redirects.Append(s.Server)).Select(s => s.File).ToHashSet(StringComparer.Ordinal);

        var onOurPorts = new List<NginxServer>();
        foreach (var server in others)
        {
            bool clash = server.Listens.Any(l => l.UnixPath is null && appliancePorts.Contains(l.Port));
            if (!clash)
            {
                plan.Kept.Add(new KeptServer(server, $"listens on {string.Join(", ", server.Listens.Select(l => l.ToString()).Distinct())}, which the appliance leaves alone"));
                if (migratedFiles.Contains(server.File))
                {
                    plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server), $"shares {server.File} with an OpenAlgo server block, so nginx cannot keep it while the OpenAlgo blocks leave; move it to a file of its own", true));
                }
                continue;
            }
            onOurPorts.Add(server);
        }
        foreach (var server in onOurPorts)
        {
            if (server.IsCatchAll)
            {
                plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server), plan.NginxKeepsRunning
                    ? "a default server on the appliance's ports: nginx keeps running for other server blocks and would still take these ports; disable it"
                    : "default server for host names no site claims (" + CatchAllBehaviour(server) + "); the appliance refuses unknown host names itself (TLS alert, 421, or no redirect)", plan.NginxKeepsRunning));
                continue;
            }
            if (RedirectOf(server) is { } redirect)
            {
                var unserved = server.ExactNames.Where(n => !plan.Sites.Any(s => s.Domains.Contains(n))).ToList();
                plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server),
                    $"{redirect.Text} for {string.Join(", ", unserved)}, which no site serves (not on an OpenAlgo server block's certificate): the appliance has no redirect from one host name to another, so it would stop being served. Put the names on the OpenAlgo certificate (certbot --expand) or remove the block from nginx's enabled configuration, then run migrate again", true));
                continue;
            }
            plan.NotMigrated.Add(new Unmigrated(server.Where, Describe(server),
                $"not an OpenAlgo site, on port {string.Join("/", server.Listens.Select(l => l.Port).Distinct())} which the appliance takes: it would stop being served. Move it to another port or machine, or remove it from nginx's enabled configuration, then run migrate again", true));
        }
        if (plan.NginxKeepsRunning)
        {
            foreach (var file in migratedFiles.Order(StringComparer.Ordinal))
            {
                if (file.StartsWith("/etc/nginx/sites-enabled/", StringComparison.Ordinal) || file.StartsWith("/etc/nginx/conf.d/", StringComparison.Ordinal))
                {
                    plan.NginxEntriesToDisable.Add(file);
                }
                else
                {
                    plan.NotMigrated.Add(new Unmigrated(file, "OpenAlgo server blocks", $"are in {file}, not a file of sites-enabled/ or conf.d/: nginx keeps running (for other server blocks) and would keep serving them; move them to a file of their own", true));
                }
            }
        }
    }

    /// <summary>
    /// nginx answers names no server block claims (and the bare IP) with the default server. One site
    /// does the same in the appliance; with several it refuses such names, so say so where nginx did not.
    /// </summary>
    private static void NoteDefaultServers(MigrationPlan plan)
    {
        if (plan.Sites.Count < 2) return;
        foreach (var site in plan.Sites)
        {
            var listen = site.Server.Listens.FirstOrDefault(l => l.DefaultServer && l.Ssl);
            if (listen is null) continue;
            site.Lines.Add(("note", $"{listen.Directive.Where} {listen.Directive.Text}: nginx answered host names no server block claims (and the bare IP address) with this site; with several sites the appliance refuses them (TLS alert unrecognized_name, or 421)"));
        }
    }

    private static string CatchAllBehaviour(NginxServer server)
    {
        var ret = server.ServerDirectives.FirstOrDefault(d => d.Name == "return");
        if (ret is not null) return ret.Text;
        var root = server.ServerDirectives.FirstOrDefault(d => d.Name == "root");
        return root is not null ? "serves " + root.Arg : "nginx's default page";
    }

    /// <summary>The global Listen:Https/Http from the sites' listen directives ([::] when nginx listened on IPv6 too).</summary>
    private static void ChooseListen(MigrationPlan plan)
    {
        var https = plan.Sites.SelectMany(s => s.Server.Listens).Where(l => l.Ssl).ToList();
        var http = plan.Sites.SelectMany(s => s.Redirects.SelectMany(r => r.Listens).Concat(s.Server.ListensSsl ? [] : s.Server.Listens)).Where(l => !l.Ssl && !l.Quic && l.UnixPath is null).ToList();
        plan.ListenHttps = Choose(plan, https, 443, "Https");
        plan.ListenHttp = Choose(plan, http, 80, "Http");
        if (http.Count == 0 && plan.Sites.Count > 0)
        {
            plan.ListenNotes.Add($"http   {plan.ListenHttp}: nginx had no port-80 server block for these sites; the appliance listens there for ACME HTTP-01 and redirects to HTTPS");
        }
    }

    private static string Choose(MigrationPlan plan, List<NginxListen> listens, int fallbackPort, string key)
    {
        if (listens.Count == 0) return $"[::]:{fallbackPort}";
        var ports = listens.Select(l => l.Port).Distinct().ToList();
        if (ports.Count > 1)
        {
            plan.NotMigrated.Add(new Unmigrated(listens[0].Directive.Where, "listen " + string.Join(", ", ports),
                $"the sites listen for {key} on different ports; the appliance has one Listen:{key} for all sites", true));
        }
        int port = ports[0];
        var addresses = listens.Where(l => l.Port == port).Select(l => l.Address).Distinct().ToList();
        string chosen;
        if (addresses.All(a => a is null || a == "*" || a == "0.0.0.0" || a == "[::]"))
        {
            chosen = addresses.Contains("[::]") ? $"[::]:{port}" : $"0.0.0.0:{port}";
            if (addresses.All(a => a == "[::]") && !listens.Any(l => l.DualStack))
            {
                plan.ListenNotes.Add($"{key.ToLowerInvariant(),-6} nginx listened on IPv6 only ([::]:{port}, ipv6only=on by default); the appliance's [::]:{port} takes IPv4 connections as well");
            }
        }
        else if (addresses.Count == 1)
        {
            chosen = $"{addresses[0]}:{port}";
        }
        else
        {
            var specific = addresses.Where(a => a is not null && a is not ("*" or "0.0.0.0" or "[::]")).ToList();
            plan.ListenNotes.Add($"{key.ToLowerInvariant(),-6} nginx listened on {string.Join(", ", addresses.Select(a => a ?? "*"))}: the appliance listens on every address ([::]:{port})");
            chosen = $"[::]:{port}";
            _ = specific;
        }
        plan.ListenNotes.Insert(0, $"{key.ToLowerInvariant(),-6} {chosen}  (nginx: {string.Join(", ", listens.Select(l => l.Directive.Text).Distinct())})");
        return chosen;
    }

    /// <summary>
    /// Internal listener: where the instance's proxy listened (local clients keep their address);
    /// OpenAlgo's proxy: the first port from 8766 that no instance, no nginx upstream, no site and
    /// nothing listening on the machine uses.
    /// </summary>
    private void ChoosePorts(MigrationPlan plan, List<OpenAlgoInstance> instances)
    {
        var reserved = new HashSet<int> { 80, 443, AdminPort };
        foreach (var instance in instances) foreach (var port in instance.Ports) reserved.Add(port);
        foreach (var site in plan.Sites)
        {
            foreach (var port in site.Instance.Ports) reserved.Add(port);
            if (site.NginxWebSocketPort is int ws) reserved.Add(ws);
            if (site.Flask.Port > 0) reserved.Add(site.Flask.Port);
        }
        foreach (var port in ListeningPorts.Read(root)) reserved.Add(port);
        if (ListenAddressPort(plan.ListenHttps) is int https) reserved.Add(https);
        if (ListenAddressPort(plan.ListenHttp) is int http) reserved.Add(http);

        var taken = new HashSet<int>();
        foreach (var site in plan.Sites)
        {
            int wanted = site.Instance.WebSocketPort;
            if (taken.Add(wanted))
            {
                site.InternalPort = wanted;
            }
            else
            {
                site.InternalPort = Next(reserved, taken);
                var owner = plan.Sites.First(s => s != site && s.InternalPort == wanted);
                site.Lines.Add(("warning", $"its .env's WEBSOCKET_PORT {wanted} is also site {owner.Name}'s; this site's local clients get 127.0.0.1:{site.InternalPort}"));
            }
            if (site.NginxWebSocketPort is int nginxPort && nginxPort != site.Instance.WebSocketPort)
            {
                site.Lines.Add(("warning", $"nginx sent /ws to 127.0.0.1:{nginxPort} but {site.EnvFile} sets WEBSOCKET_PORT {site.Instance.WebSocketPort}: /ws reached another proxy (or none); after the migration it reaches this instance's own"));
            }
        }
        foreach (var site in plan.Sites)
        {
            site.NewWebSocketPort = Next(reserved, taken);
            if (site.Instance.WebSocketHost is not ("127.0.0.1" or "localhost"))
            {
                site.Lines.Add(("warning", $"{site.EnvFile} sets WEBSOCKET_HOST={site.Instance.Env.RawValue("WEBSOCKET_HOST")}: OpenAlgo's proxy will listen on {site.Instance.WebSocketHost}:{site.NewWebSocketPort} (only WEBSOCKET_PORT is changed; '127.0.0.1' keeps it off the network). The appliance's internal listener serves loopback clients only: remote clients use wss://{site.Domains[0]}/ws"));
            }
            if (!site.Instance.RunsOwnProxy)
            {
                plan.NotMigrated.Add(new Unmigrated(site.EnvFile, "APP_MODE=standalone", "OpenAlgo's proxy does not run inside this instance's gunicorn; MarketData:Source=OpenAlgo needs it", true));
            }
            var sharedZmq = plan.Sites.FirstOrDefault(o => o != site && o.Instance.ZmqPort == site.Instance.ZmqPort && o.Instance != site.Instance);
            if (sharedZmq is not null && plan.Sites.IndexOf(sharedZmq) < plan.Sites.IndexOf(site))
            {
                site.Lines.Add(("warning", $"ZMQ_PORT {site.Instance.ZmqPort} is also {sharedZmq.Instance.Unit.Name}'s: only one of them can bind it (unchanged by migrate; give one instance its own ZMQ_PORT)"));
            }
        }
    }

    private static int Next(HashSet<int> reserved, HashSet<int> taken)
    {
        for (int port = FirstProxyPort; port < 65536; port++)
        {
            if (!reserved.Contains(port) && taken.Add(port)) return port;
        }
        throw new MigrationException("no free TCP port from 8766 up");
    }

    private static int? ListenAddressPort(string address) =>
        int.TryParse(address[(address.LastIndexOf(':') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) ? port : null;

    private static void ReportUnservedInstances(MigrationPlan plan, List<OpenAlgoInstance> instances)
    {
        foreach (var instance in instances.Where(i => plan.Sites.All(s => s.Instance != i)))
        {
            if (plan.NotMigrated.Any(n => n.Reason.Contains(instance.Unit.Name, StringComparison.Ordinal))) continue;
            plan.Notes.Add($"{instance.Unit.Name} ({instance.Bind}) runs OpenAlgo but no enabled nginx server block points at it: left as it is (its ports {string.Join(", ", instance.Ports)} are kept free)");
        }
    }

    /// <summary>
    /// The service runs as its own user: it must be able to open gunicorn's socket (write on the
    /// socket, search on every directory above it). gunicorn's default umask makes the socket 0777.
    /// </summary>
    private void CheckSocketAccess(SitePlan site)
    {
        if (!site.Flask.IsUnix || !root.FileExists(site.Flask.UnixPath!)) return;
        var blocked = new List<string>();
        string real = root.Open(site.Flask.UnixPath!);
        if ((File.GetUnixFileMode(real) & UnixFileMode.OtherWrite) == 0) blocked.Add($"{site.Flask.UnixPath} is not writable for others");
        for (string? directory = Path.GetDirectoryName(site.Flask.UnixPath); !string.IsNullOrEmpty(directory) && directory != "/"; directory = Path.GetDirectoryName(directory))
        {
            if ((File.GetUnixFileMode(root.Open(directory)) & UnixFileMode.OtherExecute) == 0) blocked.Add($"{directory} cannot be entered by others");
        }
        if (blocked.Count > 0)
        {
            site.Lines.Add(("warning", $"the service's user (openalgo-appliance) may not reach gunicorn's socket: {string.Join("; ", blocked)}. Give it the socket's group before --apply: sudo systemctl edit openalgo-appliance, then [Service] SupplementaryGroups=<the group ls -l shows>"));
        }
    }

    /// <summary>certbot's timer stops when every lineage it renews is taken over; otherwise the taken-over lineages' renewal files are parked.</summary>
    private void PlanCertbot(MigrationPlan plan)
    {
        var imported = plan.Sites.Where(s => s.CertificateHandling == CertificateHandling.ImportAcme && s.Certificate?.RenewalFile is not null)
            .Select(s => s.Certificate!.RenewalFile!).Distinct().ToList();
        var all = root.List("/etc/letsencrypt/renewal").Where(p => p.EndsWith(".conf", StringComparison.Ordinal)).ToList();
        var remaining = all.Except(imported).ToList();
        var timers = new[] { "certbot.timer", "certbot-renew.timer", "snap.certbot.renew.timer" }
            .Where(t => new[] { "/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/" }.Any(d => root.FileExists(d + t)))
            .ToList();
        if (imported.Count == 0) return;
        if (remaining.Count == 0)
        {
            plan.CertbotTimers.AddRange(timers);
            if (timers.Count == 0) plan.Notes.Add("no certbot timer found (certbot.timer, certbot-renew.timer, snap.certbot.renew.timer): if cron renews certbot's certificates, remove that job — with nginx gone 'certbot renew' can only fail");
            return;
        }
        plan.RenewalFilesToPark.AddRange(imported);
        plan.Notes.Add($"certbot keeps renewing {string.Join(", ", remaining.Select(Path.GetFileNameWithoutExtension))}: its timer stays; the lineages the appliance takes over leave certbot's renewal list ({string.Join(", ", imported)} moved aside)");
    }

    private void PlanAcme(MigrationPlan plan)
    {
        var acme = plan.Sites.Where(s => s.CertificateHandling is CertificateHandling.ImportAcme or CertificateHandling.IssueAcme).ToList();
        if (acme.Count == 0) return;
        var certbot = acme.Select(s => s.Certificate).Where(c => c?.IsCertbot == true).ToList();
        var servers = certbot.Select(c => c!.Server ?? CertbotLineage.LetsEncryptProduction).Distinct().ToList();
        if (servers.Count > 1)
        {
            plan.NotMigrated.Add(new Unmigrated("/etc/letsencrypt/renewal", string.Join(", ", servers), "certbot renews these sites with different CAs; the appliance has one ACME account (Tls:Acme:DirectoryUrl) for all sites", true));
        }
        string server = servers.FirstOrDefault() ?? CertbotLineage.LetsEncryptProduction;
        if (server != CertbotLineage.LetsEncryptProduction) plan.AcmeDirectory = server;
        plan.AcmeEmail = certbot.Select(c => c!.Email).FirstOrDefault(e => e is not null);
        if (certbot.Count > 0)
        {
            plan.AcceptTerms = true;
            plan.AcmeNote = $"certbot's account agreed to the terms of {server} (certbot --agree-tos); the appliance registers its own account there{(plan.AcmeEmail is null ? " without a contact address" : $" with {plan.AcmeEmail}")} at its first renewal";
        }
        else
        {
            plan.AcmeNote = "no certbot account: Tls:Acme:AcceptTermsOfService stays false until you read the CA's terms and set it (check says so)";
        }
    }

    /// <summary>http-level directives that change every server's behaviour and have no counterpart.</summary>
    private static void CheckHttpContext(MigrationPlan plan, NginxServers nginx)
    {
        var replaced = new List<string>();
        foreach (var directive in nginx.HttpDirectives)
        {
            string name = directive.Name;
            if (DirectiveRules.TlsPolicy.Contains(name) || DirectiveRules.Logging.Contains(name) || name is "gzip" or "http2" && directive.Arg == "on")
            {
                replaced.Add(name is "gzip" or "http2" ? name + " on" : name);
                continue;
            }
            if (DirectiveRules.Http3.Contains(name) || DirectiveRules.AdvertisesHttp3(directive))
            {
                if (directive.Arg != "off" && plan.Sites.Count > 0) plan.NotMigrated.Add(Http3([directive]));
                continue;
            }
            if (name is "auth_basic" or "auth_request" or "allow" or "deny" or "limit_req" or "limit_conn" or "satisfy")
            {
                if (directive.Arg != "off") plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, $"{name} in the http context applies to every site: the appliance has no equivalent", true));
            }
            else if (name is "real_ip_header" or "set_real_ip_from")
            {
                plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, "nginx took client addresses from a proxy in front (a CDN); the appliance reports the connecting address", true));
            }
            else if (name == "client_max_body_size" && DirectiveRules.Size(directive.Arg) is long bytes)
            {
                foreach (var site in plan.Sites.Where(s => !s.Settings.Any(x => x.Key == "Proxy:MaxRequestBodyBytes")))
                {
                    site.Settings.Add(("Proxy:MaxRequestBodyBytes", (bytes == 0 ? long.MaxValue : bytes).ToString(CultureInfo.InvariantCulture), $"{directive.Where} client_max_body_size {directive.Arg}"));
                }
            }
            else if (name == "add_header" && DirectiveRules.HeaderGap(directive) is { } gap)
            {
                plan.NotMigrated.Add(new Unmigrated(directive.Where, directive.Text, gap, !directive.Arg.Equals("Strict-Transport-Security", StringComparison.OrdinalIgnoreCase)));
            }
        }
        if (replaced.Count > 0 && plan.Sites.Count > 0)
        {
            var parts = new List<string>();
            var tls = replaced.Where(DirectiveRules.TlsPolicy.Contains).Distinct().ToList();
            var logs = replaced.Where(DirectiveRules.Logging.Contains).Distinct().ToList();
            if (tls.Count > 0) parts.Add($"{string.Join(", ", tls)} → the appliance's TLS policy");
            if (logs.Count > 0) parts.Add($"{string.Join(", ", logs)} → the appliance's logs");
            if (replaced.Contains("gzip on")) parts.Add("gzip on → none: responses pass as OpenAlgo sends them");
            if (replaced.Contains("http2 on")) parts.Add("http2 on → HTTP/1.1 (the appliance offers only HTTP/1.1 in ALPN)");
            plan.Notes.Add($"nginx's http context: {string.Join("; ", parts)}");
        }
    }

    private void CheckPreviousMigration(MigrationPlan plan)
    {
        if (!root.FileExists(MigrationPlan.MigrationDirectory + "/applied")) return;
        if (root.FileExists(MigrationPlan.MigrationDirectory + "/rolled-back")) return;
        plan.AlreadyMigrated = root.ReadAllText(MigrationPlan.MigrationDirectory + "/applied").Trim();
    }

    private string? ExistingConfiguration() =>
        root.FileExists(MigrationPlan.ConfigurationFile) ? root.ReadAllText(MigrationPlan.ConfigurationFile) : null;

    /// <summary>
    /// The <c>return</c> of a server block that only sends clients to HTTPS: install.sh's port-80
    /// block, certbot's <c>if ($host = …)</c> form, or a <c>www.</c> block on 443 that sends them to the
    /// apex. Null when the block does anything else.
    /// </summary>
    public static NginxDirective? RedirectOf(NginxServer server)
    {
        NginxDirective? redirect = null;
        bool tls = server.ListensSsl;
        foreach (var directive in server.ServerDirectives)
        {
            string name = directive.Name;
            switch (name)
            {
                case "listen" or "server_name" or "root" or "index" or "server_tokens":
                    continue;
                case "return":
                    if (IsHttpsRedirect(directive)) redirect ??= directive;
                    else if (directive.Arg is not ("404" or "444")) return null; // certbot's fallback after its if-blocks
                    continue;
                case "if":
                    if (directive.Block is { Count: 1 } inner && inner[0].Name == "return" && IsHttpsRedirect(inner[0])) { redirect ??= inner[0]; continue; }
                    return null;
                case "location":
                    var block = directive.Block ?? [];
                    string uri = directive.Args.LastOrDefault() ?? "";
                    if (uri.StartsWith("/.well-known/acme-challenge", StringComparison.Ordinal)) continue;
                    if (block.Count == 1 && block[0].Name == "return" && IsHttpsRedirect(block[0])) { redirect ??= block[0]; continue; }
                    return null;
                default:
                    // What only shapes the TLS handshake or the log of a redirect changes nothing a client is sent to.
                    if (DirectiveRules.Logging.Contains(name)) continue;
                    if (tls && (name is "ssl_certificate" or "ssl_certificate_key" or "http2" or "add_header" || DirectiveRules.TlsPolicy.Contains(name) || DirectiveRules.Http3.Contains(name))) continue;
                    return null;
            }
        }
        return redirect;
    }

    private static bool IsHttpsRedirect(NginxDirective ret) =>
        ret.Args.Count == 2 && ret.Args[0] is "301" or "302" or "307" or "308"
        && ret.Args[1].StartsWith("https://", StringComparison.Ordinal)
        && (ret.Args[1].EndsWith("$request_uri", StringComparison.Ordinal) || ret.Args[1].EndsWith("$uri", StringComparison.Ordinal));

    /// <summary>The host a redirect sends to, or null for the requested one (<c>$host</c>, <c>$http_host</c>).</summary>
    private static string? RedirectHost(NginxServer server, NginxDirective ret)
    {
        string target = ret.Args[1]["https://".Length..];
        int end = target.IndexOfAny(['/', '$'], target.StartsWith('$') ? 1 : 0);
        string host = end < 0 ? target : target[..end];
        if (host.StartsWith('$'))
        {
            string variable = target.StartsWith("$server_name", StringComparison.Ordinal) ? "$server_name" : target.StartsWith("$http_host", StringComparison.Ordinal) ? "$http_host" : "$host";
            return variable == "$server_name" ? server.ExactNames.FirstOrDefault() : null;
        }
        if (host.EndsWith(":443", StringComparison.Ordinal)) host = host[..^4];
        return host.ToLowerInvariant();
    }

    public static string Describe(NginxServer server) =>
        $"server {server.Label} (listen {string.Join(", ", server.Listens.Select(l => l.ToString() + (l.Ssl ? " ssl" : "") + (l.DefaultServer ? " default_server" : "")).Distinct())})";

    /// <summary>The site's name from its first domain (letters, digits and '-', at most 40: what Appliance:Sites accepts).</summary>
    private static string SiteName(string domain, List<SitePlan> existing)
    {
        var name = new string(domain.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        if (name.Length > 36) name = name[..36].TrimEnd('-');
        string candidate = name;
        for (int i = 2; existing.Any(s => s.Name == candidate); i++) candidate = $"{name}-{i}";
        return candidate;
    }
}
