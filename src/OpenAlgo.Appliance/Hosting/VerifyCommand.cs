using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>verify [URL] [--api-key K]</c>: the checks a user did by hand after an install — TLS handshake
/// and certificate (issuer, names, days left), the WebSocket upgrade on <c>/ws</c>, and with a key:
/// authenticate, subscribe, first tick. One PASS/WARN/FAIL line each; exit 1 if anything failed.
/// With sites configured (<paramref name="sites"/>) it says which site answered a name — the site
/// whose domains the served certificate covers — and that it is the site the name belongs to; without
/// an address it checks every site by its first name.
/// </summary>
internal sealed class VerifyCommand(TextWriter output, string? logsDirectory = null, IReadOnlyList<SiteOptions>? sites = null)
{
    private int _failures;
    private readonly List<string> _failedSites = [];

    /// <summary>Where the local service logs (for the reason an ACME issuance fails), or null when the configuration is unusable.</summary>
    public static string? LogsDirectory(string? configFile)
    {
        try
        {
            var configuration = ApplianceApp.BuildConfiguration(demo: false, configFile);
            var options = ApplianceConfiguration.Bind(configuration);
            return PackageLayout.Resolve(configuration, "LogsDirectory", "LOGS_DIRECTORY", PackageLayout.LogsDirectory, options.LogsDirectory);
        }
        catch (ConfigurationErrorsException)
        {
            return null;
        }
    }

    /// <summary>The configuration verify reads its defaults from, or null when it is unusable (verify then needs an address).</summary>
    public static ApplianceOptions? Configuration(string? configFile)
    {
        try
        {
            return ApplianceApp.Load(demo: false, configFile);
        }
        catch (ConfigurationErrorsException)
        {
            return null;
        }
    }

    public static string DefaultUrl(ApplianceOptions? options) =>
        options is null ? "https://127.0.0.1/" : SiteUrl(options, options.Tls.Domains.FirstOrDefault() ?? "127.0.0.1");

    /// <summary>Every configured site and the address of its first name, in configuration order: what <c>verify</c> without an address checks.</summary>
    public static IReadOnlyList<(string Site, Uri Url)> SiteUrls(ApplianceOptions options) =>
        options.Sites.Where(s => s.Tls.Domains.Count > 0).Select(s => (s.Name, new Uri(SiteUrl(options, s.Tls.Domains[0])))).ToList();

    private static string SiteUrl(ApplianceOptions options, string host)
    {
        ListenAddress.TryParse(options.Listen.Https, out var https);
        return https.Port == 443 ? $"https://{host}/" : $"https://{host}:{https.Port}/";
    }

    public async Task<int> RunAsync(Uri url, string? apiKey, string symbol, CancellationToken cancellationToken)
    {
        await CheckAsync(url, apiKey, symbol, cancellationToken);
        return Done();
    }

    /// <summary>Each site in turn, under a line naming it; one verdict for all of them.</summary>
    public async Task<int> RunSitesAsync(IReadOnlyList<(string Site, Uri Url)> targets, string symbol, CancellationToken cancellationToken)
    {
        foreach (var (site, url) in targets)
        {
            output.WriteLine($"site {site}: {url}");
            int before = _failures;
            await CheckAsync(url, apiKey: null, symbol, cancellationToken);
            if (_failures > before) _failedSites.Add(site);
        }
        return Done();
    }

    private async Task CheckAsync(Uri url, string? apiKey, string symbol, CancellationToken cancellationToken)
    {
        string host = url.DnsSafeHost; // an IPv6 address without brackets, as sockets and SNI want it
        int port = url.IsDefaultPort ? 443 : url.Port;
        string shown = $"{url.Host}:{port}";
        X509Certificate2? certificate = null;
        SslPolicyErrors errors = SslPolicyErrors.None;
        try
        {
            using var tcp = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await tcp.ConnectAsync(host, port, timeout.Token);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, _, e) =>
            {
                certificate = cert is null ? null : new X509Certificate2(cert);
                errors = e;
                return true;
            });
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, timeout.Token);
            Pass($"TLS handshake with {shown}: {tls.SslProtocol}, {tls.NegotiatedCipherSuite}");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // SslStream's "corrupted frame" is what a plain-HTTP port (Listen:Http) looks like: ask it in HTTP.
            if (ex is not SocketException && await PlainHttpAnswerAsync(host, port, cancellationToken) is { } answer)
            {
                string fix = answer.Location is { } location && location.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                    ? $"verify the HTTPS listener it points to: openalgo-appliance verify {location}"
                    : "verify the HTTPS listener (Listen:Https; 443 unless configured, 8443 in the demo)";
                Fail($"TLS handshake with {shown}: this port speaks plain HTTP, not TLS (it answered \"{answer.StatusLine}\"{(answer.Location is null ? "" : $", Location {answer.Location}")}). Fix: {fix}.");
                return;
            }
            if (UnrecognizedName(ex))
            {
                string named = sites is { Count: > 0 } ? $" ({string.Join("; ", sites.Select(s => $"site {s.Name}: {string.Join(", ", s.Tls.Domains)}"))})" : "";
                Fail($"TLS handshake with {shown}: refused with the TLS alert unrecognized_name: the server has several sites and none of them has the name {(IPAddress.TryParse(host, out _) ? "(a bare address sends none)" : host)}. " +
                    $"Fix: verify one of the sites' names{named}, or run verify without an address to check every site.");
                return;
            }
            Fail($"TLS handshake with {shown}: {ex.Message}");
            return;
        }

        if (certificate is not null)
        {
            double days = (certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays;
            string names = string.Join(", ", certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()));
            string summary = $"certificate for {(names.Length > 0 ? names : certificate.Subject)}, issuer {certificate.Issuer}, expires {certificate.NotAfter:yyyy-MM-dd} ({days:0} days left)";
            bool selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
            if (StandInCertificate.Is(certificate)) ReportStandIn(certificate, names);
            else if (days < 7) Fail(summary + ": renew now");
            else if (errors != SslPolicyErrors.None && selfSigned) Warn(summary + ": self-signed, browsers and the SDK will not trust it (Tls:Mode=Acme gets a real one)");
            else if (errors != SslPolicyErrors.None) Fail(summary + $": not trusted ({errors})");
            else if (days < 20) Warn(summary + ": renewal is due");
            else Pass(summary);
            if (sites is { Count: > 0 }) ReportSite(host, certificate, names.Length > 0 ? names : certificate.Subject);
        }

        var wsUri = new UriBuilder(url) { Scheme = "wss", Path = "/ws", Query = "" }.Uri;
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        // What the OpenAlgo Python SDK's transport sends: verify must fail where those clients fail.
        string origin = VerifyTarget.SdkOrigin(url);
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(wsUri, timeout.Token);
            Pass($"WebSocket upgrade on {wsUri} (Origin: {origin}, as the Python SDK sends)");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            Fail(socket.HttpStatusCode switch
            {
                HttpStatusCode.Forbidden => $"WebSocket upgrade on {wsUri}: 403 for Origin {origin}, the Origin the OpenAlgo Python SDK (websocket-client) sends, so its clients are refused too. "
                    + "Fix: leave Security:CheckWsOrigin off (the default: /ws authenticates by API key), or list the origin in Security:AllowedOrigins.",
                HttpStatusCode.NotFound => $"WebSocket upgrade on {wsUri}: 404, no market-data WebSocket here. Fix: point verify at the appliance's Listen:Https address (is another server on this port?).",
                HttpStatusCode.MisdirectedRequest => $"WebSocket upgrade on {wsUri}: 421, no site of the server answers {url.Host} on this connection. Fix: add {url.Host} to one site's Tls:Domains (then systemctl reload openalgo-appliance), or verify a name a site has.",
                0 => $"WebSocket upgrade on {wsUri}: {ex.Message}",
                var status => $"WebSocket upgrade on {wsUri}: HTTP {(int)status} instead of 101 ({ex.Message})",
            });
            return;
        }

        if (apiKey is null)
        {
            output.WriteLine("SKIP authenticate/subscribe (pass --api-key KEY)");
            return;
        }

        string reply = await AskAsync(socket, $"{{\"action\": \"authenticate\", \"api_key\": \"{JsonEscape(apiKey)}\"}}", cancellationToken);
        if (!reply.Contains("\"type\": \"auth\"") || !reply.Contains("\"status\": \"success\"")) { Fail($"authenticate: {reply}"); return; }
        Pass($"authenticate: {reply}");

        string[] parts = symbol.Split(':', 2);
        string exchange = parts.Length == 2 ? parts[0] : "NSE";
        string name = parts[^1];
        var started = Stopwatch.StartNew();
        reply = await AskAsync(socket, $"{{\"action\": \"subscribe\", \"symbols\": [{{\"symbol\": \"{JsonEscape(name)}\", \"exchange\": \"{JsonEscape(exchange)}\"}}], \"mode\": 1}}", cancellationToken);
        if (!reply.Contains("\"type\": \"subscribe\"") || !reply.Contains("\"status\": \"success\"")) { Fail($"subscribe {exchange}:{name}: {reply}"); return; }
        Pass($"subscribe {exchange}:{name}");
        try
        {
            string tick = await ReceiveAsync(socket, TimeSpan.FromSeconds(15), cancellationToken);
            Pass($"first tick after {started.ElapsedMilliseconds} ms: {(tick.Length > 160 ? tick[..160] + "…" : tick)}");
        }
        catch (OperationCanceledException)
        {
            Warn($"no tick for {exchange}:{name} within 15 s (market closed, or no publisher on the bus)");
        }
        try { await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); } catch (WebSocketException) { }
    }

    /// <summary>
    /// With sites, a name reaches the site that lists it (SNI picks the certificate, Host the site):
    /// the site that answered is the one whose certificate came back, and it must be the name's own
    /// site with a certificate that covers the name — another site's certificate, or one for other
    /// names, is what a client refuses.
    /// </summary>
    private void ReportSite(string host, X509Certificate2 certificate, string names)
    {
        var owner = sites!.FirstOrDefault(s => s.Tls.Domains.Any(d => SiteRegistry.Normalize(d).Equals(SiteRegistry.Normalize(host), StringComparison.OrdinalIgnoreCase)));
        // The site whose names the served certificate covers: every one of them, else any.
        var served = sites!.FirstOrDefault(s => s.Tls.Domains.Count > 0 && s.Tls.Domains.All(d => certificate.MatchesHostname(d)))
            ?? sites!.FirstOrDefault(s => s.Tls.Domains.Any(d => certificate.MatchesHostname(d)));
        bool covers = !IPAddress.TryParse(host, out _) && certificate.MatchesHostname(host);
        if (owner is null)
        {
            Fail($"{host} is no site's name in this configuration ({string.Join("; ", sites!.Select(s => $"site {s.Name}: {string.Join(", ", s.Tls.Domains)}"))}), yet a server answered it with a certificate for {names}. " +
                "Fix: if the running service reads another configuration, reload it (systemctl reload openalgo-appliance); otherwise another server answers this address.");
        }
        else if (covers)
        {
            Pass($"site {owner.Name} answered {host}: its certificate covers the name");
        }
        else
        {
            string whose = served is null ? "no site's" : served == owner ? $"site {owner.Name}'s own, without that name" : $"site {served.Name}'s";
            Fail($"{host} is site {owner.Name}'s name, but the certificate served for it is for {names} ({whose}): clients refuse it. " +
                $"Fix: site {owner.Name}'s certificate must cover {host} (Appliance:Sites:{owner.Name}:Tls:CertificateFile in Files mode, else its Tls:Domains); check with: openalgo-appliance certificates.");
        }
    }

    private static bool UnrecognizedName(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains("unrecognized name", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>
    /// Acme mode serves a self-signed stand-in until the first issuance succeeds: say so, and where
    /// the reason is, instead of "self-signed" or "renew now" (its short lifetime).
    /// </summary>
    private void ReportStandIn(X509Certificate2 certificate, string names)
    {
        var created = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero) + StandInCertificate.Backdating;
        var age = DateTimeOffset.UtcNow - created;
        string what = $"certificate for {(names.Length > 0 ? names : certificate.Subject)}: the appliance's temporary self-signed stand-in, served since {created:yyyy-MM-dd HH:mm} UTC because no certificate has been issued yet (Tls:Mode=Acme)";
        string where = "journalctl -u openalgo-appliance -g 'ACME:'" + (logsDirectory is null ? "" : $" or {Path.Combine(logsDirectory, "openalgo-appliance-*.log")}");
        var (lastFailure, readProblem) = LastAcmeFailure(created);
        if (lastFailure is not null)
        {
            Fail($"{what}: ACME issuance is failing. The log says: {lastFailure}. Fix: the cause that line names, usually DNS of Tls:Domains not pointing at this host or ports 80/443 not reachable from the internet (Tls:Acme:ChallengeTypes); every attempt: {where}.");
        }
        else if (age < TimeSpan.FromMinutes(3))
        {
            Warn($"{what}: issuance is under way ({age.TotalSeconds:0} s); run verify again in a minute. Progress: {where}.");
        }
        else
        {
            Fail($"{what}: ACME issuance has not succeeded in {age.TotalMinutes:0} min, so it is failing. Why: {where} (lines 'ACME: attempt N failed: …'){readProblem}.");
        }
    }

    /// <summary>The newest "ACME: attempt N failed: …" line the local service wrote after <paramref name="since"/>.</summary>
    private (string? Line, string Problem) LastAcmeFailure(DateTimeOffset since)
    {
        if (logsDirectory is null || !Directory.Exists(logsDirectory)) return (null, "");
        try
        {
            string? found = null;
            foreach (var file in Directory.EnumerateFiles(logsDirectory, "openalgo-appliance-*.log").Order(StringComparer.Ordinal))
            {
                using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
                while (reader.ReadLine() is { } line)
                {
                    int at = line.IndexOf(StandInCertificate.FailureLogMarker, StringComparison.Ordinal);
                    if (at < 0 || !line.Contains(" failed: ", StringComparison.Ordinal)) continue;
                    // "2026-11-29 03:44:59.319 +00:00 [ERR] …": only failures of this stand-in's service run count.
                    if (line.Length < 30 || !DateTimeOffset.TryParseExact(line[..30], "yyyy-MM-dd HH:mm:ss.fff zzz", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var when)
                        || when < since - TimeSpan.FromMinutes(1))
                    {
                        continue;
                    }
                    found = line[at..];
                }
            }
            return (found, "");
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return (null, $"; {logsDirectory} is not readable here ({ex.Message.TrimEnd('.')}): run verify as root or as a member of the openalgo-appliance group to see the reason");
        }
    }

    /// <summary>The status line (and Location) a port answers a plain HTTP request with, or null if it does not speak HTTP.</summary>
    private static async Task<(string StatusLine, string? Location)?> PlainHttpAnswerAsync(string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(host, port, timeout.Token);
            var stream = tcp.GetStream();
            string hostHeader = host.Contains(':', StringComparison.Ordinal) ? $"[{host.Trim('[', ']')}]:{port}" : $"{host}:{port}";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {hostHeader}\r\nConnection: close\r\n\r\n"), timeout.Token);
            var buffer = new byte[4096];
            int count = 0;
            while (count < buffer.Length)
            {
                int read = await stream.ReadAsync(buffer.AsMemory(count), timeout.Token);
                if (read == 0) break;
                count += read;
                if (buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8) >= 0) break;
            }
            string head = Encoding.ASCII.GetString(buffer, 0, count);
            if (!head.StartsWith("HTTP/", StringComparison.Ordinal)) return null;
            var lines = head.Split("\r\n");
            string? location = lines.FirstOrDefault(l => l.StartsWith("Location:", StringComparison.OrdinalIgnoreCase))?["Location:".Length..].Trim();
            return (lines[0], location);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task<string> AskAsync(ClientWebSocket socket, string message, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cancellationToken);
        try
        {
            return await ReceiveAsync(socket, TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return "(no reply within 10 s)";
        }
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var buffer = new byte[64 * 1024];
        int count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close) return $"(closed: {socket.CloseStatus} {socket.CloseStatusDescription})";
            count += result.Count;
            if (result.EndOfMessage) return Encoding.UTF8.GetString(buffer, 0, count);
            if (count == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        }
    }

    private static string JsonEscape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private void Pass(string line) => output.WriteLine("PASS " + line);
    private void Warn(string line) => output.WriteLine("WARN " + line);
    private void Fail(string line)
    {
        _failures++;
        output.WriteLine("FAIL " + line);
    }

    private int Done()
    {
        output.WriteLine(_failures == 0 ? "verify: OK"
            : $"verify: {_failures} check(s) failed" + (_failedSites.Count == 0 ? "" : $" ({(_failedSites.Count == 1 ? "site" : "sites")} {string.Join(", ", _failedSites)})"));
        return _failures == 0 ? 0 : 1;
    }
}
