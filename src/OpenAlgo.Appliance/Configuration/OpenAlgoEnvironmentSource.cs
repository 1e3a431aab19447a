using System.Collections;
using Microsoft.Extensions.Configuration;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Maps OpenAlgo's own <c>.env</c> names (WEBSOCKET_PORT, ZMQ_PORT, WS_PING_INTERVAL, …) onto
/// <c>Appliance:*</c> keys, so an existing OpenAlgo environment configures the appliance without
/// edits. Layered above the embedded defaults and below the JSON files and <c>Appliance__*</c>.
/// </summary>
internal sealed class OpenAlgoEnvironmentSource(IDictionary? environment = null) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(environment ?? Environment.GetEnvironmentVariables());

    /// <summary>The names honoured, for <c>show-config</c> and the docs.</summary>
    public static readonly string[] Names =
    [
        "WEBSOCKET_HOST", "WEBSOCKET_PORT", "ZMQ_HOST", "ZMQ_PORT", "MAX_SYMBOLS_PER_WEBSOCKET",
        "MAX_WEBSOCKET_CONNECTIONS", "WS_AUTH_GRACE_SECONDS", "WS_PING_INTERVAL", "WS_PING_TIMEOUT",
        "SOCKETIO_ORIGINS", "API_KEY_PEPPER", "DATABASE_URL", "VALID_BROKERS", "WS_PROXY_STATS_FILE",
    ];

    internal sealed class Provider(IDictionary environment) : ConfigurationProvider
    {
        private readonly Dictionary<string, string> _names = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>The OpenAlgo name a key was set from (WS_PING_INTERVAL for Appliance:Limits:PingIntervalSeconds), for error messages.</summary>
        public string? NameOf(string key) => _names.GetValueOrDefault(key);

        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            _names.Clear();
            string? Get(string name)
            {
                if (environment[name] is not string raw) return null;
                raw = raw.Trim();
                // .env files quote values ('127.0.0.1'); systemd's EnvironmentFile strips them, a shell export may not.
                if (raw.Length >= 2 && (raw[0] == '\'' || raw[0] == '"') && raw[^1] == raw[0]) raw = raw[1..^1];
                return raw.Length == 0 ? null : raw;
            }

            string? wsHost = Get("WEBSOCKET_HOST");
            string? wsPort = Get("WEBSOCKET_PORT");
            if (wsHost is not null || wsPort is not null)
            {
                data["Appliance:Listen:Internal"] = $"{wsHost ?? "127.0.0.1"}:{wsPort ?? "8765"}";
                _names["Appliance:Listen:Internal"] = "WEBSOCKET_HOST/WEBSOCKET_PORT";
            }
            string? zmqHost = Get("ZMQ_HOST");
            string? zmqPort = Get("ZMQ_PORT");
            if (zmqHost is not null || zmqPort is not null)
            {
                data["Appliance:MarketData:ZmqEndpoint"] = $"tcp://{zmqHost ?? "127.0.0.1"}:{zmqPort ?? "5555"}";
                _names["Appliance:MarketData:ZmqEndpoint"] = "ZMQ_HOST/ZMQ_PORT";
            }
            Map("MAX_SYMBOLS_PER_WEBSOCKET", "Appliance:Limits:SymbolsPerUpstreamConnection");
            Map("MAX_WEBSOCKET_CONNECTIONS", "Appliance:Limits:UpstreamConnectionsPerUser");
            Map("WS_AUTH_GRACE_SECONDS", "Appliance:Limits:AuthGraceSeconds");
            Map("WS_PING_INTERVAL", "Appliance:Limits:PingIntervalSeconds");
            Map("WS_PING_TIMEOUT", "Appliance:Limits:PingTimeoutSeconds");
            Map("API_KEY_PEPPER", "Appliance:Auth:ApiKeyPepper");
            Map("VALID_BROKERS", "Appliance:MarketData:SupportedBrokers");
            Map("WS_PROXY_STATS_FILE", "Appliance:MarketData:StatsFile");
            if (Get("DATABASE_URL") is { } databaseUrl)
            {
                const string prefix = "sqlite:///";
                data["Appliance:Auth:DatabasePath"] = databaseUrl.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                    ? databaseUrl[prefix.Length..]
                    : databaseUrl;
                _names["Appliance:Auth:DatabasePath"] = "DATABASE_URL";
            }
            if (Get("SOCKETIO_ORIGINS") is { } origins)
            {
                int i = 0;
                foreach (var origin in origins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    _names[$"Appliance:Security:AllowedOrigins:{i}"] = "SOCKETIO_ORIGINS";
                    data[$"Appliance:Security:AllowedOrigins:{i++}"] = origin;
                }
            }
            Data = data;

            void Map(string name, string key)
            {
                if (Get(name) is { } value)
                {
                    data[key] = value;
                    _names[key] = name;
                }
            }
        }
    }
}
