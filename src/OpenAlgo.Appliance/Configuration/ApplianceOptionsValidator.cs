using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Checks the bound options and says, per key, what is wrong and how to fix it — the way
/// <c>nginx -t</c> names the line. Hand-written rather than DataAnnotations: reflection-free for
/// native AOT, and the messages are the product here.
/// </summary>
internal static class ApplianceOptionsValidator
{
    public static readonly string[] TlsModes = ["SelfSigned", "Files", "Acme"];
    public static readonly string[] Sources = ["Simulated", "Zmq", "OpenAlgo"];
    public static readonly string[] AuthModes = ["StaticKeys", "OpenAlgoDatabase", "Upstream"];

    public static List<string> Validate(ApplianceOptions o)
    {
        var errors = new List<string>();
        void Error(string key, string problem, string fix) => errors.Add($"Appliance:{key}: {problem}. Fix: {fix}.");

        CheckAddress("Listen:Https", o.Listen.Https, allowEmpty: false);
        CheckAddress("Listen:Http", o.Listen.Http, allowEmpty: true);
        CheckAddress("Listen:Internal", o.Listen.Internal, allowEmpty: true);

        if (!TlsModes.Contains(o.Tls.Mode, StringComparer.OrdinalIgnoreCase))
        {
            Error("Tls:Mode", $"'{o.Tls.Mode}' is not a TLS mode", "use SelfSigned, Files or Acme");
        }
        else if (o.Tls.Mode.Equals("Files", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(o.Tls.CertificateFile)) Error("Tls:CertificateFile", "is required when Tls:Mode is Files", "set it to the PEM certificate chain (fullchain.pem)");
            else if (!File.Exists(o.Tls.CertificateFile)) Error("Tls:CertificateFile", $"'{o.Tls.CertificateFile}' does not exist", "point it at an existing PEM file");
            if (string.IsNullOrWhiteSpace(o.Tls.KeyFile)) Error("Tls:KeyFile", "is required when Tls:Mode is Files", "set it to the PEM private key (privkey.pem)");
            else if (!File.Exists(o.Tls.KeyFile)) Error("Tls:KeyFile", $"'{o.Tls.KeyFile}' does not exist", "point it at an existing PEM file");
        }
        else if (o.Tls.Mode.Equals("Acme", StringComparison.OrdinalIgnoreCase))
        {
            if (o.Tls.Domains.Count == 0) Error("Tls:Domains", "is empty but Tls:Mode is Acme", "list the public host names to certify, for example [\"trade.example.com\"]");
            if (!o.Tls.Acme.AcceptTermsOfService) Error("Tls:Acme:AcceptTermsOfService", "is false: the CA registers no account without it", "read the CA's terms of service and set it to true");
            if (!Uri.TryCreate(o.Tls.Acme.DirectoryUrl, UriKind.Absolute, out var directory) || directory.Scheme != "https")
            {
                Error("Tls:Acme:DirectoryUrl", $"'{o.Tls.Acme.DirectoryUrl}' is not an https URL", "use the CA's directory URL, for example https://acme-v02.api.letsencrypt.org/directory");
            }
            var types = o.Tls.Acme.ChallengeTypes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (types.Length == 0 || types.Any(t => !t.Equals("Http01", StringComparison.OrdinalIgnoreCase) && !t.Equals("TlsAlpn01", StringComparison.OrdinalIgnoreCase)))
            {
                Error("Tls:Acme:ChallengeTypes", $"'{o.Tls.Acme.ChallengeTypes}' is not a list of Http01 and TlsAlpn01", "use Http01,TlsAlpn01 (or one of them)");
            }
            if (types.Length == 1 && types[0].Equals("Http01", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(o.Listen.Http))
            {
                Error("Tls:Acme:ChallengeTypes", "is Http01 only but Listen:Http is off", "enable Listen:Http (port 80) or add TlsAlpn01");
            }
            if (!string.IsNullOrEmpty(o.Tls.Acme.TrustedRootsFile) && !File.Exists(o.Tls.Acme.TrustedRootsFile))
            {
                Error("Tls:Acme:TrustedRootsFile", $"'{o.Tls.Acme.TrustedRootsFile}' does not exist", "point it at a PEM file with the private CA's root certificates, or leave it empty");
            }
        }
        for (int i = 0; i < o.Tls.Domains.Count; i++)
        {
            if (Uri.CheckHostName(o.Tls.Domains[i]) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
            {
                Error($"Tls:Domains:{i}", $"'{o.Tls.Domains[i]}' is not a host name", "write a bare host name such as trade.example.com (no scheme, port or path)");
            }
        }

        if (!Sources.Contains(o.MarketData.Source, StringComparer.OrdinalIgnoreCase))
        {
            Error("MarketData:Source", $"'{o.MarketData.Source}' is not a market-data source", "use Simulated, Zmq or OpenAlgo");
        }
        bool upstreamSource = o.MarketData.Source.Equals("OpenAlgo", StringComparison.OrdinalIgnoreCase);
        if (upstreamSource
            && !(Uri.TryCreate(o.MarketData.OpenAlgoUpstreamUrl, UriKind.Absolute, out var upstreamUri) && upstreamUri.Scheme is "ws" or "wss"))
        {
            Error("MarketData:OpenAlgoUpstreamUrl", $"'{o.MarketData.OpenAlgoUpstreamUrl}' is not a WebSocket URL", "use ws://127.0.0.1:8766, where OpenAlgo's own proxy listens after WEBSOCKET_PORT=8766 in its .env");
        }
        if (o.MarketData.Source.Equals("Zmq", StringComparison.OrdinalIgnoreCase)
            && !(o.MarketData.ZmqEndpoint.StartsWith("tcp://", StringComparison.Ordinal) || o.MarketData.ZmqEndpoint.StartsWith("ipc://", StringComparison.Ordinal)))
        {
            Error("MarketData:ZmqEndpoint", $"'{o.MarketData.ZmqEndpoint}' is not a ZeroMQ endpoint", "use tcp://127.0.0.1:5555 (or set ZMQ_HOST/ZMQ_PORT)");
        }
        if (!(o.MarketData.SimulatedTicksPerSecond > 0 && o.MarketData.SimulatedTicksPerSecond <= 1000))
        {
            Error("MarketData:SimulatedTicksPerSecond", $"{o.MarketData.SimulatedTicksPerSecond} is out of range", "use a value above 0 and at most 1000");
        }

        if (!AuthModes.Contains(o.Auth.Mode, StringComparer.OrdinalIgnoreCase))
        {
            Error("Auth:Mode", $"'{o.Auth.Mode}' is not an auth mode", "use StaticKeys, OpenAlgoDatabase or Upstream");
        }
        else if (upstreamSource && !o.Auth.Mode.Equals("Upstream", StringComparison.OrdinalIgnoreCase))
        {
            Error("Auth:Mode", $"{o.Auth.Mode} cannot be used with MarketData:Source=OpenAlgo: OpenAlgo's proxy checks every key itself", "set Auth:Mode to Upstream");
        }
        else if (!upstreamSource && o.Auth.Mode.Equals("Upstream", StringComparison.OrdinalIgnoreCase))
        {
            Error("Auth:Mode", $"Upstream needs MarketData:Source=OpenAlgo (it is {o.MarketData.Source})", "set MarketData:Source to OpenAlgo, or Auth:Mode to OpenAlgoDatabase or StaticKeys");
        }
        else if (o.Auth.Mode.Equals("OpenAlgoDatabase", StringComparison.OrdinalIgnoreCase))
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
        Positive("Limits:MaxClients", l.MaxClients);
        Positive("Limits:MaxClientsPerUser", l.MaxClientsPerUser);
        Positive("Limits:MaxSymbolsPerClient", l.MaxSymbolsPerClient);
        Positive("Limits:SymbolsPerUpstreamConnection", l.SymbolsPerUpstreamConnection);
        Positive("Limits:UpstreamConnectionsPerUser", l.UpstreamConnectionsPerUser);
        if (l.MaxMessageBytes < 1024 || l.MaxMessageBytes > 64 << 20) Error("Limits:MaxMessageBytes", $"{l.MaxMessageBytes} is out of range", "use a value from 1024 to 67108864 (OpenAlgo: 1048576)");
        Positive("Limits:MaxSymbolsPerMessage", l.MaxSymbolsPerMessage);
        // Below 16 an ordinary message (authenticate, subscribe with request_id) could be refused.
        if (l.MaxKeysPerObject < 16) Error("Limits:MaxKeysPerObject", $"{l.MaxKeysPerObject} is too low", "use 16 or more (OpenAlgo's messages have at most 8 keys; default 1000)");
        PositiveSeconds("Limits:AuthGraceSeconds", l.AuthGraceSeconds, allowZero: false);
        PositiveSeconds("Limits:PingIntervalSeconds", l.PingIntervalSeconds, allowZero: true);
        PositiveSeconds("Limits:PingTimeoutSeconds", l.PingTimeoutSeconds, allowZero: false);
        PositiveSeconds("Limits:IdleTimeoutSeconds", l.IdleTimeoutSeconds, allowZero: false);
        PositiveSeconds("Limits:MaxMessagesPerSecond", l.MaxMessagesPerSecond, allowZero: false);
        Positive("Limits:MessageBurst", l.MessageBurst);
        Positive("Limits:ClientQueueFrames", l.ClientQueueFrames);
        PositiveSeconds("Limits:SlowClientTimeoutSeconds", l.SlowClientTimeoutSeconds, allowZero: false);
        PositiveSeconds("Limits:CloseTimeoutSeconds", l.CloseTimeoutSeconds, allowZero: false);

        var p = o.Proxy;
        if (!string.IsNullOrWhiteSpace(p.Upstream) && !FlaskAddress.TryParse(p.Upstream, out _))
        {
            Error("Proxy:Upstream", $"'{p.Upstream}' is not an upstream address", "use unix:/var/python/openalgo/openalgo.sock (gunicorn's --bind), http://127.0.0.1:5000, or empty to turn the proxy off");
        }
        if (!p.SessionCheckPath.StartsWith('/') || p.SessionCheckPath.StartsWith("//", StringComparison.Ordinal) || p.SessionCheckPath.Any(char.IsWhiteSpace))
        {
            Error("Proxy:SessionCheckPath", $"'{p.SessionCheckPath}' is not a path on the Flask app", "write an absolute path such as /auth/session-status");
        }
        if (p.MaxRequestBodyBytes < 1024) Error("Proxy:MaxRequestBodyBytes", $"{p.MaxRequestBodyBytes} is out of range", "use a number of bytes of at least 1024 (default 16777216, 16 MiB)");
        if (double.IsNaN(p.SessionCacheSeconds) || p.SessionCacheSeconds < 0 || p.SessionCacheSeconds > 300)
        {
            Error("Proxy:SessionCacheSeconds", $"{p.SessionCacheSeconds} is out of range", "use 0 (ask every time) up to 300 seconds");
        }
        PositiveSeconds("Proxy:ReadTimeoutSeconds", p.ReadTimeoutSeconds, allowZero: false);
        PositiveSeconds("Proxy:UpgradeIdleTimeoutSeconds", p.UpgradeIdleTimeoutSeconds, allowZero: false);
        for (int i = 0; i < o.Security.AllowedOrigins.Count; i++)
        {
            string origin = o.Security.AllowedOrigins[i];
            if (origin.Trim() != "*" && !OriginPolicy.TryNormalize(origin, out _))
            {
                Error($"Security:AllowedOrigins:{i}", $"'{origin}' is not an origin", "write scheme://host[:port] such as https://trade.example.com, or * for any (OpenAlgo's SOCKETIO_ORIGINS fills this list)");
            }
        }

        if (!Enum.TryParse<Serilog.Events.LogEventLevel>(o.LogLevel, ignoreCase: true, out _))
        {
            Error("LogLevel", $"'{o.LogLevel}' is not a log level", "use Verbose, Debug, Information, Warning, Error or Fatal");
        }
        return errors;

        void CheckAddress(string key, string value, bool allowEmpty)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                if (!allowEmpty) Error(key, "is empty", "set host:port, for example 0.0.0.0:443");
                return;
            }
            if (!ListenAddress.TryParse(value, out _)) Error(key, $"'{value}' is not host:port", "write an IP address and port, for example 127.0.0.1:8765 or [::]:443");
        }
        void Positive(string key, int value)
        {
            if (value <= 0) Error(key, $"{value} is not a positive number", "use a whole number above 0");
        }
        void PositiveSeconds(string key, double value, bool allowZero)
        {
            if (double.IsNaN(value) || value < 0 || (!allowZero && value == 0) || value > 10 * 86400)
            {
                Error(key, $"{value} is out of range", allowZero ? "use 0 (off) or a number of seconds up to 864000" : "use a number of seconds above 0 and up to 864000");
            }
        }
    }

    private static bool IsHex(ReadOnlySpan<char> text, int length)
    {
        if (text.Length != length) return false;
        foreach (char c in text) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
