namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// The <c>Appliance</c> configuration section. Defaults are the embedded defaults of
/// <c>openalgo-appliance run</c>; each names where it comes from. Keys and their meaning are part
/// of the interface contract (docs/configuration.md).
/// </summary>
internal sealed class ApplianceOptions
{
    public const string SectionName = "Appliance";

    public ListenSection Listen { get; set; } = new();
    public TlsSection Tls { get; set; } = new();

    /// <summary>Global: Kestrel's request limits against slow and oversized requests.</summary>
    public HttpSection Http { get; set; } = new();

    // The per-site sections. At the top level they are the settings every site inherits, and with no
    // Sites they are the one site named "default" (see DefaultSite).
    public MarketDataSection MarketData { get; set; } = new();
    public AuthSection Auth { get; set; } = new();
    public LimitsSection Limits { get; set; } = new();
    public ProxySection Proxy { get; set; } = new();
    public SecuritySection Security { get; set; } = new();

    /// <summary>
    /// <c>Appliance:Sites:&lt;name&gt;</c>, each already merged with the top-level keys it does not
    /// override. Empty when the configuration has no Sites: then <see cref="EffectiveSites"/> is the
    /// one implicit site <c>default</c> made of the top-level sections.
    /// </summary>
    public List<SiteOptions> Sites { get; set; } = [];

    /// <summary>Certificates, keys, demo key. systemd's <c>$STATE_DIRECTORY</c>, else <c>./state</c>.</summary>
    public string StateDirectory { get; set; } = "";

    /// <summary>Serilog rolling files. systemd's <c>$LOGS_DIRECTORY</c>, else <c>./logs</c>.</summary>
    public string LogsDirectory { get; set; } = "";

    /// <summary>Minimum log level: Verbose, Debug, Information, Warning, Error, Fatal.</summary>
    public string LogLevel { get; set; } = "Information";

    /// <summary>Global: the message trace (<c>Logging:MessageTrace:*</c>).</summary>
    public LoggingSection Logging { get; set; } = new();

    /// <summary>The sites to serve: the configured ones, else the implicit <c>default</c> site.</summary>
    public IReadOnlyList<SiteOptions> EffectiveSites => Sites.Count > 0 ? Sites : [DefaultSite()];

    /// <summary>
    /// The top-level per-site sections seen as one site. The sections are the same instances, not
    /// copies: what is set through the view is set at the top level, and code that changes the
    /// top-level options before the host is built (tests, the demo key) changes this site.
    /// </summary>
    public SiteOptions DefaultSite() => new()
    {
        Name = SiteOptions.DefaultName,
        IsImplicit = true,
        Listen = Listen,
        Tls = Tls,
        MarketData = MarketData,
        Auth = Auth,
        Limits = Limits,
        Proxy = Proxy,
        Security = Security,
    };
}

/// <summary>
/// One OpenAlgo instance with its domains: the unit the appliance is built from (nginx's server
/// block plus what sat behind it). Keys under <c>Appliance:Sites:&lt;name&gt;</c> override the
/// top-level key of the same name.
/// </summary>
internal sealed class SiteOptions
{
    public const string DefaultName = "default";

    public string Name { get; set; } = DefaultName;

    /// <summary>True for the site made of the top-level keys when there is no Sites section: its keys have no <c>Sites:NAME:</c> prefix.</summary>
    public bool IsImplicit { get; set; }

    /// <summary>Where this site's keys live, relative to <c>Appliance</c>: "" for the implicit site, else <c>Sites:NAME:</c>.</summary>
    public string KeyPrefix => IsImplicit ? "" : $"Sites:{Name}:";

    public SiteListenSection Listen { get; set; } = new();
    public SiteTlsSection Tls { get; set; } = new();
    public MarketDataSection MarketData { get; set; } = new();
    public AuthSection Auth { get; set; } = new();
    public LimitsSection Limits { get; set; } = new();
    public ProxySection Proxy { get; set; } = new();
    public SecuritySection Security { get; set; } = new();

    public override string ToString() => Name;
}

/// <summary>The listener a site owns.</summary>
internal class SiteListenSection
{
    /// <summary>OpenAlgo's proxy address (<c>WEBSOCKET_HOST:WEBSOCKET_PORT</c>), where the SDK connects by default. Empty: none.</summary>
    public string Internal { get; set; } = "127.0.0.1:8765";
}

/// <summary>The listeners all sites share (global keys) plus, at the top level, the default site's own.</summary>
internal sealed class ListenSection : SiteListenSection
{
    /// <summary>Public TLS listener (nginx's <c>listen 443 ssl</c>).</summary>
    public string Https { get; set; } = "0.0.0.0:443";

    /// <summary>Plain HTTP: ACME HTTP-01 and redirect to HTTPS. Empty disables it.</summary>
    public string Http { get; set; } = "0.0.0.0:80";

    /// <summary>
    /// The admin listener: <c>/metrics</c>, <c>/healthz</c>, the live status page. <c>host:port</c> or
    /// <c>unix:/path</c>; empty disables it. Loopback only unless <see cref="AdminAllowRemote"/>.
    /// </summary>
    public string Admin { get; set; } = "127.0.0.1:9765";

    /// <summary>Lets <see cref="Admin"/> be a non-loopback address (behind a firewall or a VPN): it has no password.</summary>
    public bool AdminAllowRemote { get; set; }

}

/// <summary>A site's certificate: its names and where it comes from.</summary>
internal class SiteTlsSection
{
    public TlsMode Mode { get; set; } = TlsMode.SelfSigned;
    public List<string> Domains { get; set; } = [];
    public string CertificateFile { get; set; } = "";
    public string KeyFile { get; set; } = "";
}

/// <summary>The top level's TLS keys: the default site's certificate plus the one ACME account all sites share.</summary>
internal sealed class TlsSection : SiteTlsSection
{
    public AcmeSection Acme { get; set; } = new();
}

internal sealed class AcmeSection
{
    public string DirectoryUrl { get; set; } = "https://acme-v02.api.letsencrypt.org/directory";
    public string Email { get; set; } = "";
    public bool AcceptTermsOfService { get; set; }
    public string TrustedRootsFile { get; set; } = "";
    public string ChallengeTypes { get; set; } = "Http01,TlsAlpn01";

    /// <summary>External account binding (RFC 8555 §7.3.4), for CAs that require it (ZeroSSL, Google, private CAs).</summary>
    public string EabKeyId { get; set; } = "";

    /// <summary>The EAB MAC key as the CA gives it (base64url).</summary>
    public string EabHmacKey { get; set; } = "";

    /// <summary>Period of the renewal loop (Caddy's <c>renew_interval</c>); it also wakes at the renewal point itself.</summary>
    public TimeSpan RenewCheckInterval { get; set; } = TimeSpan.FromMinutes(10);
}

internal sealed class MarketDataSection
{
    /// <summary><c>Simulated</c> (embedded default), <c>Zmq</c> or <c>OpenAlgo</c>.</summary>
    public MarketDataSourceKind Source { get; set; } = MarketDataSourceKind.Simulated;

    /// <summary>The SUB socket binds here; publishers connect (OpenAlgo's <c>ZMQ_HOST:ZMQ_PORT</c>).</summary>
    public string ZmqEndpoint { get; set; } = "tcp://127.0.0.1:5555";

    public string OpenAlgoUpstreamUrl { get; set; } = "ws://127.0.0.1:8766";

    /// <summary>Simulated feed: ticks per second per subscribed symbol.</summary>
    public double SimulatedTicksPerSecond { get; set; } = 2;

    /// <summary>OpenAlgo's <c>VALID_BROKERS</c>: the reply of <c>get_supported_brokers</c>.</summary>
    public string SupportedBrokers { get; set; } = "";

    /// <summary>OpenAlgo's <c>WS_PROXY_STATS_FILE</c>: connection stats every 10 s for its health page; empty = off.</summary>
    public string StatsFile { get; set; } = "";

    /// <summary>Compress market data (RFC 7692 permessage-deflate) for clients that offer it, as OpenAlgo's proxy does.</summary>
    public bool PerMessageDeflate { get; set; } = true;
}

internal sealed class AuthSection
{
    /// <summary><c>StaticKeys</c>, <c>OpenAlgoDatabase</c> or <c>Upstream</c>.</summary>
    public AuthMode Mode { get; set; } = AuthMode.StaticKeys;
    public List<StaticKeyOptions> StaticKeys { get; set; } = [];
    public string DatabasePath { get; set; } = "";
    public string ApiKeyPepper { get; set; } = "";
}

internal sealed class StaticKeyOptions
{
    /// <summary>The API key itself, or <c>sha256:&lt;hex&gt;</c> of it.</summary>
    public string Key { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Broker { get; set; } = "";
}

/// <summary>The reverse proxy to OpenAlgo's Flask app (nginx's <c>location /</c> and <c>location /socket.io/</c>).</summary>
internal sealed class ProxySection
{
    /// <summary>
    /// <c>unix:/var/python/openalgo/openalgo.sock</c> (install.sh's gunicorn) or <c>http://127.0.0.1:5000</c>.
    /// Empty (the embedded default) disables the proxy: the demo and tests run without Flask.
    /// </summary>
    public string Upstream { get; set; } = "";

    /// <summary>Socket.IO only for callers whose cookies belong to a logged-in Flask session (nginx <c>auth_request</c>-style).</summary>
    public bool RequireSessionForSocketIo { get; set; } = true;

    /// <summary>Asked with the caller's cookies; answers JSON <c>{"authenticated": true|false}</c>.</summary>
    public string SessionCheckPath { get; set; } = "/auth/session-status";

    /// <summary>How long one answer of the session check is reused for the same Cookie header; 0 asks every time.</summary>
    public double SessionCacheSeconds { get; set; } = 5;

    /// <summary>Largest request body forwarded; larger ones get 413 (nginx's <c>client_max_body_size</c>).</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 << 20;

    /// <summary>Silence allowed on a plain request (nginx <c>proxy_read_timeout 300s</c> in <c>location /</c>: broker logins take 60-90 s).</summary>
    public double ReadTimeoutSeconds { get; set; } = 300;

    /// <summary>Silence allowed on an upgraded (Socket.IO WebSocket) connection (nginx <c>proxy_read_timeout 86400s</c>).</summary>
    public double UpgradeIdleTimeoutSeconds { get; set; } = 86400;
}

/// <summary>Browser-facing policies.</summary>
internal sealed class SecuritySection
{
    /// <summary>
    /// Extra origins (<c>https://host[:port]</c>) allowed on the cookie-authenticated
    /// <c>/socket.io/</c> (and on <c>/ws</c> with <see cref="CheckWsOrigin"/>), besides
    /// <c>Tls:Domains</c>; <c>*</c> allows any. OpenAlgo's <c>SOCKETIO_ORIGINS</c>.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Off by default: <c>/ws</c> authenticates by API key inside the protocol, with no ambient
    /// credential a foreign page could ride on, and API clients send whatever Origin they like
    /// (websocket-client: <c>http://HOST:PORT</c>) — OpenAlgo's proxy checks none. On: <c>/ws</c>
    /// handshakes pass the same policy as <c>/socket.io/</c> (plus <c>http://</c> + a domain).
    /// The loopback-only internal listener never checks.
    /// </summary>
    public bool CheckWsOrigin { get; set; }

    /// <summary>Growing delay for failed <c>authenticate</c> calls, per client address.</summary>
    public AuthThrottleSection AuthThrottle { get; set; } = new();
}

internal sealed class LimitsSection
{
    /// <summary>All market-data clients together (OpenAlgo has no limit; PR #1788). Keep below LimitNOFILE.</summary>
    public int MaxClients { get; set; } = 20000;

    /// <summary>Authenticated clients of one user.</summary>
    public int MaxClientsPerUser { get; set; } = 1000;

    /// <summary>Symbols one client may hold.</summary>
    public int MaxSymbolsPerClient { get; set; } = 3000;

    /// <summary>OpenAlgo's <c>MAX_SYMBOLS_PER_WEBSOCKET</c>: symbols per upstream broker connection.</summary>
    public int SymbolsPerUpstreamConnection { get; set; } = 1000;

    /// <summary>OpenAlgo's <c>MAX_WEBSOCKET_CONNECTIONS</c>: upstream connections per user; capacity = this × the above.</summary>
    public int UpstreamConnectionsPerUser { get; set; } = 3;

    /// <summary>websockets' <c>max_size</c> default: 1 MiB; larger messages close with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 1 << 20;

    /// <summary>
    /// Entries in one subscribe or unsubscribe <c>symbols</c> list (OpenAlgo has no bound); more is
    /// refused whole with <c>LIMIT_EXCEEDED</c>. The default is OpenAlgo's per-user capacity
    /// (1000 × 3), so a list over it could never be subscribed in full anyway.
    /// </summary>
    public int MaxSymbolsPerMessage { get; set; } = 3000;

    /// <summary>Keys in one JSON object of a client message (OpenAlgo's messages have at most 8); more is refused with <c>LIMIT_EXCEEDED</c>.</summary>
    public int MaxKeysPerObject { get; set; } = 1000;

    /// <summary>OpenAlgo's <c>WS_AUTH_GRACE_SECONDS</c>: unauthenticated sockets close with 4401.</summary>
    public double AuthGraceSeconds { get; set; } = 15;

    /// <summary>OpenAlgo's <c>WS_PING_INTERVAL</c>; 0 disables protocol pings.</summary>
    public double PingIntervalSeconds { get; set; } = 20;

    /// <summary>OpenAlgo's <c>WS_PING_TIMEOUT</c>: no Pong within it closes with 1011.</summary>
    public double PingTimeoutSeconds { get; set; } = 20;

    /// <summary>nginx's <c>proxy_read_timeout 86400s</c> on <c>/ws</c>: a client silent this long is closed.</summary>
    public double IdleTimeoutSeconds { get; set; } = 86400;

    /// <summary>Client messages per second per connection (token bucket refill rate).</summary>
    public double MaxMessagesPerSecond { get; set; } = 100;

    /// <summary>Burst allowance of the message bucket (an SDK re-subscribing after reconnect).</summary>
    public int MessageBurst { get; set; } = 500;

    /// <summary>Market-data frames queued per client before ticks are conflated to the newest per symbol and mode.</summary>
    public int ClientQueueFrames { get; set; } = 4096;

    /// <summary>A backlogged client that makes no progress for this long is closed with 1008.</summary>
    public double SlowClientTimeoutSeconds { get; set; } = 30;

    /// <summary>websockets' <c>close_timeout</c>: how long to wait for the peer's close frame.</summary>
    public double CloseTimeoutSeconds { get; set; } = 10;
}
