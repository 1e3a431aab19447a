using System.Net;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Checks the bound options and says, per key, what is wrong and how to fix it — the way
/// <c>nginx -t</c> names the line. Hand-written rather than DataAnnotations: reflection-free for
/// native AOT, and the messages are the product here. Global keys once; each site's keys with the
/// site's prefix (<c>Appliance:Sites:NAME:…</c>, none for the implicit site); then what sites may
/// not share.
/// </summary>
internal static partial class ApplianceOptionsValidator
{
    public static List<string> Validate(ApplianceOptions o)
    {
        var errors = new List<string>();
        var sites = o.EffectiveSites;
        ValidateGlobal(o, sites, errors);
        foreach (var site in sites) ValidateSite(site, errors);
        if (o.Sites.Count > 0) ValidateSharing(o, errors);
        return errors;
    }

    private static void ValidateGlobal(ApplianceOptions o, IReadOnlyList<SiteOptions> sites, List<string> errors)
    {
        void Error(string key, string problem, string fix) => errors.Add($"Appliance:{key}: {problem}. Fix: {fix}.");

        CheckAddress(errors, "Listen:Https", o.Listen.Https, allowEmpty: false);
        CheckAddress(errors, "Listen:Http", o.Listen.Http, allowEmpty: true);
        CheckAdmin(o, errors);

        if (sites.Any(s => s.Tls.Mode == TlsMode.Acme))
        {
            var acme = o.Tls.Acme;
            if (!acme.AcceptTermsOfService) Error("Tls:Acme:AcceptTermsOfService", "is false: the CA registers no account without it", "read the CA's terms of service and set it to true");
            if (!Uri.TryCreate(acme.DirectoryUrl, UriKind.Absolute, out var directory) || directory.Scheme != "https")
            {
                Error("Tls:Acme:DirectoryUrl", $"'{acme.DirectoryUrl}' is not an https URL", "use the CA's directory URL, for example https://acme-v02.api.letsencrypt.org/directory");
            }
            var types = acme.ChallengeTypes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (types.Length == 0 || types.Any(t => !t.Equals("Http01", StringComparison.OrdinalIgnoreCase) && !t.Equals("TlsAlpn01", StringComparison.OrdinalIgnoreCase)))
            {
                Error("Tls:Acme:ChallengeTypes", $"'{acme.ChallengeTypes}' is not a list of Http01 and TlsAlpn01", "use Http01,TlsAlpn01 (or one of them)");
            }
            if (types.Length == 1 && types[0].Equals("Http01", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(o.Listen.Http))
            {
                Error("Tls:Acme:ChallengeTypes", "is Http01 only but Listen:Http is off", "enable Listen:Http (port 80) or add TlsAlpn01");
            }
            if (acme.RenewCheckInterval < TimeSpan.FromSeconds(1) || acme.RenewCheckInterval > TimeSpan.FromDays(1))
            {
                Error("Tls:Acme:RenewCheckInterval", $"{acme.RenewCheckInterval:c} is out of range", "use a time span from 00:00:01 to 1.00:00:00 (default 00:10:00; the loop also wakes at each renewal point)");
            }
            if (!string.IsNullOrEmpty(acme.TrustedRootsFile) && !File.Exists(acme.TrustedRootsFile))
            {
                Error("Tls:Acme:TrustedRootsFile", $"'{acme.TrustedRootsFile}' does not exist", "point it at a PEM file with the private CA's root certificates, or leave it empty");
            }
        }

        var http = o.Http;
        PositiveSeconds(errors, "Http:RequestHeadersTimeoutSeconds", http.RequestHeadersTimeoutSeconds, allowZero: false);
        if (double.IsNaN(http.MinRequestBodyBytesPerSecond) || http.MinRequestBodyBytesPerSecond < 0 || http.MinRequestBodyBytesPerSecond > 1e9)
        {
            Error("Http:MinRequestBodyBytesPerSecond", $"{http.MinRequestBodyBytesPerSecond} is out of range", "use 0 (off) or bytes per second such as 240");
        }
        Positive(errors, "Http:MaxRequestHeaderCount", http.MaxRequestHeaderCount);
        if (http.MaxRequestHeadersTotalBytes < 1024) Error("Http:MaxRequestHeadersTotalBytes", $"{http.MaxRequestHeadersTotalBytes} is too small for a browser's request", "use at least 1024; the default is 32768");
        PositiveSeconds(errors, "Http:KeepAliveTimeoutSeconds", http.KeepAliveTimeoutSeconds, allowZero: false);
        PositiveSeconds(errors, "Http:TlsHandshakeTimeoutSeconds", http.TlsHandshakeTimeoutSeconds, allowZero: false);

        if (!Enum.TryParse<Serilog.Events.LogEventLevel>(o.LogLevel, ignoreCase: true, out _))
        {
            Error("LogLevel", $"'{o.LogLevel}' is not a log level", "use Verbose, Debug, Information, Warning, Error or Fatal");
        }
        ValidateMessageTrace(o.Logging.MessageTrace, sites, errors);
    }

    private static void ValidateSite(SiteOptions site, List<string> errors)
    {
        string p = site.KeyPrefix;
        void Error(string key, string problem, string fix) => errors.Add($"Appliance:{p}{key}: {problem}. Fix: {fix}.");
        var o = site;

        if (!site.IsImplicit && !IsUsableSiteName(site.Name))
        {
            errors.Add($"Appliance:Sites:{site.Name}: '{site.Name}' is not a usable site name. Fix: use letters, digits, '-' and '_' (up to 40, starting with a letter or digit), for example broker1 or family-zerodha.");
        }
        CheckAddress(errors, p + "Listen:Internal", o.Listen.Internal, allowEmpty: true);

        if (o.Tls.Mode == TlsMode.Files)
        {
            if (string.IsNullOrWhiteSpace(o.Tls.CertificateFile)) Error("Tls:CertificateFile", "is required when Tls:Mode is Files", "set it to the PEM certificate chain (fullchain.pem)");
            else if (!File.Exists(o.Tls.CertificateFile)) Error("Tls:CertificateFile", $"'{o.Tls.CertificateFile}' does not exist", "point it at an existing PEM file");
            if (string.IsNullOrWhiteSpace(o.Tls.KeyFile)) Error("Tls:KeyFile", "is required when Tls:Mode is Files", "set it to the PEM private key (privkey.pem)");
            else if (!File.Exists(o.Tls.KeyFile)) Error("Tls:KeyFile", $"'{o.Tls.KeyFile}' does not exist", "point it at an existing PEM file");
        }
        else if (o.Tls.Mode == TlsMode.Acme && o.Tls.Domains.Count == 0)
        {
            Error("Tls:Domains", "is empty but Tls:Mode is Acme", "list the public host names to certify, for example [\"trade.example.com\"]");
        }
        for (int i = 0; i < o.Tls.Domains.Count; i++)
        {
            if (Uri.CheckHostName(o.Tls.Domains[i]) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
            {
                Error($"Tls:Domains:{i}", $"'{o.Tls.Domains[i]}' is not a host name", "write a bare host name such as trade.example.com (no scheme, port or path)");
            }
        }

        bool upstreamSource = o.MarketData.Source == MarketDataSourceKind.OpenAlgo;
        if (upstreamSource
            && !(Uri.TryCreate(o.MarketData.OpenAlgoUpstreamUrl, UriKind.Absolute, out var upstreamUri) && upstreamUri.Scheme is "ws" or "wss"))
        {
            Error("MarketData:OpenAlgoUpstreamUrl", $"'{o.MarketData.OpenAlgoUpstreamUrl}' is not a WebSocket URL", "use ws://127.0.0.1:8766, where OpenAlgo's own proxy listens after WEBSOCKET_PORT=8766 in its .env");
        }
        if (o.MarketData.Source == MarketDataSourceKind.Zmq
            && !(o.MarketData.ZmqEndpoint.StartsWith("tcp://", StringComparison.Ordinal) || o.MarketData.ZmqEndpoint.StartsWith("ipc://", StringComparison.Ordinal)))
        {
            Error("MarketData:ZmqEndpoint", $"'{o.MarketData.ZmqEndpoint}' is not a ZeroMQ endpoint", "use tcp://127.0.0.1:5555 (or set ZMQ_HOST/ZMQ_PORT)");
        }
        if (!(o.MarketData.SimulatedTicksPerSecond > 0 && o.MarketData.SimulatedTicksPerSecond <= 1000))
        {
            Error("MarketData:SimulatedTicksPerSecond", $"{o.MarketData.SimulatedTicksPerSecond} is out of range", "use a value above 0 and at most 1000");
        }

        if (upstreamSource && o.Auth.Mode != AuthMode.Upstream)
        {
            Error("Auth:Mode", $"{o.Auth.Mode} cannot be used with MarketData:Source=OpenAlgo: OpenAlgo's proxy checks every key itself", "set Auth:Mode to Upstream");
        }
        else if (!upstreamSource && o.Auth.Mode == AuthMode.Upstream)
        {
            Error("Auth:Mode", $"Upstream needs MarketData:Source=OpenAlgo (it is {o.MarketData.Source})", "set MarketData:Source to OpenAlgo, or Auth:Mode to OpenAlgoDatabase or StaticKeys");
        }
        else if (o.Auth.Mode == AuthMode.OpenAlgoDatabase)
        {
            if (string.IsNullOrWhiteSpace(o.Auth.DatabasePath))
            {
                Error("Auth:DatabasePath", "is empty", "point it at OpenAlgo's SQLite database, e.g. /var/python/openalgo/db/openalgo.db (or set DATABASE_URL=sqlite:///...)");
            }
            else if (!File.Exists(o.Auth.DatabasePath))
            {
                Error("Auth:DatabasePath", $"'{o.Auth.DatabasePath}' does not exist (or this user cannot see it)", "point it at OpenAlgo's db/openalgo.db and give the service read access to it");
            }
            if (string.IsNullOrEmpty(o.Auth.ApiKeyPepper))
            {
                Error("Auth:ApiKeyPepper", "is empty: OpenAlgo hashes every API key with its pepper", "set API_KEY_PEPPER (the value in OpenAlgo's .env) or Auth:ApiKeyPepper");
            }
        }
        for (int i = 0; i < o.Auth.StaticKeys.Count; i++)
        {
            var k = o.Auth.StaticKeys[i];
            if (string.IsNullOrEmpty(k.Key)) Error($"Auth:StaticKeys:{i}:Key", "is empty", "set the API key, or sha256:<64 hex digits> of it");
            else if (k.Key.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) && !IsHex(k.Key.AsSpan(7), 64))
            {
                Error($"Auth:StaticKeys:{i}:Key", "has the sha256: prefix but not 64 hex digits after it", "write sha256: followed by the hex SHA-256 of the key (sha256sum)");
            }
            if (string.IsNullOrWhiteSpace(k.UserId)) Error($"Auth:StaticKeys:{i}:UserId", "is empty", "set the OpenAlgo user name that owns this key");
            if (string.IsNullOrWhiteSpace(k.Broker)) Error($"Auth:StaticKeys:{i}:Broker", "is empty", "set the broker name sent in replies (for example zerodha)");
        }

        var l = o.Limits;
        Positive(errors, p + "Limits:MaxClients", l.MaxClients);
        Positive(errors, p + "Limits:MaxClientsPerUser", l.MaxClientsPerUser);
        Positive(errors, p + "Limits:MaxSymbolsPerClient", l.MaxSymbolsPerClient);
        Positive(errors, p + "Limits:SymbolsPerUpstreamConnection", l.SymbolsPerUpstreamConnection);
        Positive(errors, p + "Limits:UpstreamConnectionsPerUser", l.UpstreamConnectionsPerUser);
        if (l.MaxMessageBytes < 1024 || l.MaxMessageBytes > 64 << 20) Error("Limits:MaxMessageBytes", $"{l.MaxMessageBytes} is out of range", "use a value from 1024 to 67108864 (OpenAlgo: 1048576)");
        Positive(errors, p + "Limits:MaxSymbolsPerMessage", l.MaxSymbolsPerMessage);
        // Below 16 an ordinary message (authenticate, subscribe with request_id) could be refused.
        if (l.MaxKeysPerObject < 16) Error("Limits:MaxKeysPerObject", $"{l.MaxKeysPerObject} is too low", "use 16 or more (OpenAlgo's messages have at most 8 keys; default 1000)");
        PositiveSeconds(errors, p + "Limits:AuthGraceSeconds", l.AuthGraceSeconds, allowZero: false);
        PositiveSeconds(errors, p + "Limits:PingIntervalSeconds", l.PingIntervalSeconds, allowZero: true);
        PositiveSeconds(errors, p + "Limits:PingTimeoutSeconds", l.PingTimeoutSeconds, allowZero: false);
        PositiveSeconds(errors, p + "Limits:IdleTimeoutSeconds", l.IdleTimeoutSeconds, allowZero: false);
        PositiveSeconds(errors, p + "Limits:MaxMessagesPerSecond", l.MaxMessagesPerSecond, allowZero: false);
        Positive(errors, p + "Limits:MessageBurst", l.MessageBurst);
        Positive(errors, p + "Limits:ClientQueueFrames", l.ClientQueueFrames);
        PositiveSeconds(errors, p + "Limits:SlowClientTimeoutSeconds", l.SlowClientTimeoutSeconds, allowZero: false);
        PositiveSeconds(errors, p + "Limits:CloseTimeoutSeconds", l.CloseTimeoutSeconds, allowZero: false);

        var proxy = o.Proxy;
        if (!string.IsNullOrWhiteSpace(proxy.Upstream) && !FlaskAddress.TryParse(proxy.Upstream, out _))
        {
            Error("Proxy:Upstream", $"'{proxy.Upstream}' is not an upstream address", "use unix:/var/python/openalgo/openalgo.sock (gunicorn's --bind), http://127.0.0.1:5000, or empty to turn the proxy off");
        }
        if (!proxy.SessionCheckPath.StartsWith('/') || proxy.SessionCheckPath.StartsWith("//", StringComparison.Ordinal) || proxy.SessionCheckPath.Any(char.IsWhiteSpace))
        {
            Error("Proxy:SessionCheckPath", $"'{proxy.SessionCheckPath}' is not a path on the Flask app", "write an absolute path such as /auth/session-status");
        }
        if (proxy.MaxRequestBodyBytes < 1024) Error("Proxy:MaxRequestBodyBytes", $"{proxy.MaxRequestBodyBytes} is out of range", "use a number of bytes of at least 1024 (default 16777216, 16 MiB)");
        if (double.IsNaN(proxy.SessionCacheSeconds) || proxy.SessionCacheSeconds < 0 || proxy.SessionCacheSeconds > 300)
        {
            Error("Proxy:SessionCacheSeconds", $"{proxy.SessionCacheSeconds} is out of range", "use 0 (ask every time) up to 300 seconds");
        }
        PositiveSeconds(errors, p + "Proxy:ReadTimeoutSeconds", proxy.ReadTimeoutSeconds, allowZero: false);
        PositiveSeconds(errors, p + "Proxy:UpgradeIdleTimeoutSeconds", proxy.UpgradeIdleTimeoutSeconds, allowZero: false);
        for (int i = 0; i < o.Security.AllowedOrigins.Count; i++)
        {
            string origin = o.Security.AllowedOrigins[i];
            if (origin.Trim() != "*" && !OriginPolicy.TryNormalize(origin, out _))
            {
                Error($"Security:AllowedOrigins:{i}", $"'{origin}' is not an origin", "write scheme://host[:port] such as https://trade.example.com, or * for any (OpenAlgo's SOCKETIO_ORIGINS fills this list)");
            }
        }
        var throttle = o.Security.AuthThrottle;
        if (throttle.FreeFailures < 0 || throttle.FreeFailures > 1000)
        {
            Error("Security:AuthThrottle:FreeFailures", $"{throttle.FreeFailures} is out of range", "use 0 to 1000 failures per address answered without delay (default 5)");
        }
        PositiveSeconds(errors, p + "Security:AuthThrottle:InitialDelaySeconds", throttle.InitialDelaySeconds, allowZero: false);
        PositiveSeconds(errors, p + "Security:AuthThrottle:MaxDelaySeconds", throttle.MaxDelaySeconds, allowZero: false);
        PositiveSeconds(errors, p + "Security:AuthThrottle:ForgetAfterSeconds", throttle.ForgetAfterSeconds, allowZero: false);
        if (throttle.MaxDelaySeconds < throttle.InitialDelaySeconds)
        {
            Error("Security:AuthThrottle:MaxDelaySeconds", $"{throttle.MaxDelaySeconds} is below Security:AuthThrottle:InitialDelaySeconds ({throttle.InitialDelaySeconds})", "make the longest delay at least the first one");
        }
    }

    /// <summary>What two sites may not share: a name, a listener, a bus, an upstream, a stats file.</summary>
    private static void ValidateSharing(ApplianceOptions o, List<string> errors)
    {
        var sites = o.Sites;
        var domains = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var site in sites)
        {
            if (site.Tls.Domains.Count == 0)
            {
                errors.Add($"Appliance:Sites:{site.Name}:Tls:Domains: is empty: with Sites, requests reach a site by its host name. Fix: list the host names site {site.Name} answers for, for example [\"{site.Name}.example.com\"].");
            }
            for (int i = 0; i < site.Tls.Domains.Count; i++)
            {
                string domain = site.Tls.Domains[i].TrimEnd('.');
                if (domains.TryGetValue(domain, out string? owner) && owner != site.Name)
                {
                    errors.Add($"Appliance:Sites:{site.Name}:Tls:Domains:{i}: '{domain}' is also a domain of site {owner}. Fix: a host name belongs to one site: remove it from site {owner} or site {site.Name}.");
                }
                else domains[domain] = site.Name;
            }
        }

        for (int a = 0; a < sites.Count; a++)
        {
            for (int b = a + 1; b < sites.Count; b++)
            {
                var (first, second) = (sites[a], sites[b]);
                string both = $"sites {first.Name} and {second.Name}";
                if (SameListener(first.Listen.Internal, second.Listen.Internal))
                {
                    errors.Add($"Appliance:Sites:{second.Name}:Listen:Internal: {second.Listen.Internal} is also site {first.Name}'s internal listener. Fix: give each site its own port (OpenAlgo's install-multi.sh uses 8765, 8766, … per instance), or an empty value for none.");
                }
                if (first.MarketData.Source == MarketDataSourceKind.Zmq && second.MarketData.Source == MarketDataSourceKind.Zmq
                    && first.MarketData.ZmqEndpoint.Equals(second.MarketData.ZmqEndpoint, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"Appliance:Sites:{second.Name}:MarketData:ZmqEndpoint: {both} would bind the same ZeroMQ endpoint {second.MarketData.ZmqEndpoint}. Fix: give each site its instance's ZMQ_PORT (install-multi.sh: 5555, 5556, …).");
                }
                if (first.MarketData.Source == MarketDataSourceKind.OpenAlgo && second.MarketData.Source == MarketDataSourceKind.OpenAlgo
                    && first.MarketData.OpenAlgoUpstreamUrl.TrimEnd('/').Equals(second.MarketData.OpenAlgoUpstreamUrl.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"Appliance:Sites:{second.Name}:MarketData:OpenAlgoUpstreamUrl: {both} use the same OpenAlgo proxy {second.MarketData.OpenAlgoUpstreamUrl}: each site is one OpenAlgo instance with its own. Fix: point it at this instance's proxy (its WEBSOCKET_PORT), or serve both domains from one site.");
                }
                if (!string.IsNullOrWhiteSpace(first.Proxy.Upstream) && first.Proxy.Upstream.Trim().Equals(second.Proxy.Upstream.Trim(), StringComparison.Ordinal))
                {
                    errors.Add($"Appliance:Sites:{second.Name}:Proxy:Upstream: {both} proxy to the same OpenAlgo app {second.Proxy.Upstream}. Fix: point it at this instance's gunicorn socket or port, or serve both domains from one site.");
                }
                if (!string.IsNullOrWhiteSpace(first.MarketData.StatsFile) && first.MarketData.StatsFile == second.MarketData.StatsFile)
                {
                    errors.Add($"Appliance:Sites:{second.Name}:MarketData:StatsFile: {both} would write the same stats file {second.MarketData.StatsFile}. Fix: give each site its instance's WS_PROXY_STATS_FILE.");
                }
            }
            var site = sites[a];
            foreach (var (key, address) in new[] { ("Listen:Https", o.Listen.Https), ("Listen:Http", o.Listen.Http) })
            {
                if (SameListener(site.Listen.Internal, address))
                {
                    errors.Add($"Appliance:Sites:{site.Name}:Listen:Internal: {site.Listen.Internal} is also Appliance:{key}. Fix: give the internal listener its own port (OpenAlgo's WEBSOCKET_PORT, 8765 by default).");
                }
            }
        }
    }

    /// <summary>Two addresses that cannot both be bound: the same port on the same address or on a wildcard.</summary>
    /// <summary>Listen:Admin: off, a unix socket, or host:port — loopback unless Listen:AdminAllowRemote says otherwise.</summary>
    private static void CheckAdmin(ApplianceOptions o, List<string> errors)
    {
        string value = o.Listen.Admin?.Trim() ?? "";
        if (value.Length == 0) return;
        if (value.StartsWith("unix:", StringComparison.Ordinal))
        {
            if (!Path.IsPathRooted(value[5..]))
            {
                errors.Add($"Appliance:Listen:Admin: '{value}' is not unix: followed by an absolute path. Fix: write for example unix:/run/openalgo-appliance/admin.sock.");
            }
            return;
        }
        if (!ListenAddress.TryParse(value, out var endPoint))
        {
            errors.Add($"Appliance:Listen:Admin: '{value}' is not host:port or unix:/path. Fix: write 127.0.0.1:9765 (the default), unix:/run/openalgo-appliance/admin.sock, or an empty value to turn the admin listener off.");
            return;
        }
        if (!IPAddress.IsLoopback(endPoint.Address) && !o.Listen.AdminAllowRemote)
        {
            errors.Add($"Appliance:Listen:Admin: {value} is not a loopback address, and the admin listener (metrics, health, the status page) has no password. Fix: keep 127.0.0.1:{endPoint.Port} and reach it with ssh -L {endPoint.Port}:127.0.0.1:{endPoint.Port}, or set Appliance:Listen:AdminAllowRemote=true if a firewall or VPN guards that address.");
        }
        foreach (var (key, address) in new[] { ("Listen:Https", o.Listen.Https), ("Listen:Http", o.Listen.Http) })
        {
            if (SameListener(value, address)) errors.Add($"Appliance:Listen:Admin: {value} is also Appliance:{key}. Fix: give the admin listener its own port (9765 by default).");
        }
        foreach (var site in o.EffectiveSites)
        {
            if (SameListener(value, site.Listen.Internal)) errors.Add($"Appliance:Listen:Admin: {value} is also Appliance:{site.KeyPrefix}Listen:Internal. Fix: give the admin listener its own port (9765 by default).");
        }
    }

    private static bool SameListener(string first, string second)
    {
        if (!ListenAddress.TryParse(first, out var a) || !ListenAddress.TryParse(second, out var b)) return false;
        if (a.Port != b.Port || a.Port == 0) return false;
        static bool Any(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
        return a.Address.Equals(b.Address) || Any(a.Address) || Any(b.Address);
    }

    private static void CheckAddress(List<string> errors, string key, string value, bool allowEmpty)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (!allowEmpty) errors.Add($"Appliance:{key}: is empty. Fix: set host:port, for example 0.0.0.0:443.");
            return;
        }
        if (!ListenAddress.TryParse(value, out _)) errors.Add($"Appliance:{key}: '{value}' is not host:port. Fix: write an IP address and port, for example 127.0.0.1:8765 or [::]:443.");
    }

    private static void Positive(List<string> errors, string key, int value)
    {
        if (value <= 0) errors.Add($"Appliance:{key}: {value} is not a positive number. Fix: use a whole number above 0.");
    }

    private static void PositiveSeconds(List<string> errors, string key, double value, bool allowZero)
    {
        if (double.IsNaN(value) || value < 0 || (!allowZero && value == 0) || value > 10 * 86400)
        {
            errors.Add($"Appliance:{key}: {value} is out of range. Fix: {(allowZero ? "use 0 (off) or a number of seconds up to 864000" : "use a number of seconds above 0 and up to 864000")}.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
    private static partial Regex SiteName();

    /// <summary>A name a site may have (it names state folders and log fields): what <c>check</c> accepts, for <c>install --site</c>.</summary>
    public static bool IsUsableSiteName(string name) => SiteName().IsMatch(name);

    private static bool IsHex(ReadOnlySpan<char> text, int length)
    {
        if (text.Length != length) return false;
        foreach (char c in text) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
