using OpenAlgo.Appliance.Migration.Nginx;

namespace OpenAlgo.Appliance.Migration.Planning;

/// <summary>
/// What each nginx directive in an OpenAlgo server block means for the appliance: carried over
/// (a setting), replaced by the appliance's own behaviour (the TLS policy, logs, streaming), or
/// something the appliance cannot do — which then blocks <c>--apply</c> rather than vanish.
/// </summary>
internal static class DirectiveRules
{
    /// <summary>The appliance enforces Mozilla's intermediate TLS policy in the binary.</summary>
    public static readonly HashSet<string> TlsPolicy = new(StringComparer.Ordinal)
    {
        "ssl_protocols", "ssl_ciphers", "ssl_prefer_server_ciphers", "ssl_ecdh_curve", "ssl_session_timeout",
        "ssl_session_cache", "ssl_session_tickets", "ssl_session_ticket_key", "ssl_stapling", "ssl_stapling_verify",
        "ssl_trusted_certificate", "ssl_dhparam", "ssl_buffer_size", "ssl_early_data", "ssl_conf_command",
        "ssl", "ssl_reject_handshake",
    };

    /// <summary>HTTP/3 (QUIC over UDP): the appliance serves HTTP/1.1 over TCP only.</summary>
    public static readonly HashSet<string> Http3 = new(StringComparer.Ordinal)
    {
        "http3", "http3_hq", "http3_max_concurrent_streams", "http3_stream_buffer_size", "quic_retry", "quic_gso",
        "quic_host_key", "quic_active_connection_id_limit",
    };

    /// <summary>The appliance writes its own logs (Serilog files and the journal).</summary>
    public static readonly HashSet<string> Logging = new(StringComparer.Ordinal)
    {
        "access_log", "error_log", "log_not_found", "log_subrequest", "open_log_file_cache", "rewrite_log",
    };

    /// <summary>Buffering and connection tuning with no behaviour a client sees: the appliance streams both ways.</summary>
    public static readonly HashSet<string> ProxyTuning = new(StringComparer.Ordinal)
    {
        "proxy_http_version", "proxy_buffering", "proxy_request_buffering", "proxy_buffer_size", "proxy_buffers",
        "proxy_busy_buffers_size", "proxy_cache_bypass", "proxy_no_cache", "proxy_connect_timeout", "proxy_send_timeout",
        "proxy_max_temp_file_size", "proxy_temp_file_write_size", "proxy_ignore_client_abort", "proxy_socket_keepalive",
        "proxy_headers_hash_max_size", "proxy_headers_hash_bucket_size", "proxy_read_timeout", "proxy_redirect",
        "client_body_buffer_size", "client_header_buffer_size", "large_client_header_buffers", "client_body_timeout",
        "client_header_timeout", "send_timeout", "keepalive_timeout", "keepalive_requests", "sendfile", "tcp_nopush",
        "tcp_nodelay", "reset_timedout_connection", "chunked_transfer_encoding", "server_tokens", "charset",
        "index", "root", "types_hash_max_size", "server_names_hash_bucket_size",
    };

    /// <summary>
    /// A <c>proxy_set_header</c> the appliance sends the same way (<see cref="OpenAlgo.Appliance.Proxy.ForwardedHeaders"/>)
    /// or that only concerns the upgrade handshake it handles itself.
    /// </summary>
    public static bool IsStandardHeader(NginxDirective directive)
    {
        if (directive.Args.Count != 2) return false;
        string value = directive.Args[1];
        return directive.Args[0].ToLowerInvariant() switch
        {
            "host" => value is "$host" or "$http_host" or "$server_name" or "$host:$server_port",
            "x-real-ip" => value is "$remote_addr",
            "x-forwarded-for" => value is "$proxy_add_x_forwarded_for" or "$remote_addr",
            "x-forwarded-proto" => value is "$scheme" or "https",
            "x-forwarded-host" => value is "$host" or "$http_host" or "$server_name",
            "x-forwarded-port" => value is "$server_port" or "443",
            "upgrade" => value is "$http_upgrade",
            "connection" => value is "upgrade" or "Upgrade" or "" or "$connection_upgrade" or "keep-alive",
            _ => false,
        };
    }

    /// <summary>
    /// An <c>add_header</c> the appliance sends as well: nosniff on every proxied response, DENY
    /// framing on pages, HSTS two years. X-XSS-Protection is left out on purpose (browsers removed
    /// the XSS auditor; OWASP advises against the header). Null when it is covered; else why not.
    /// </summary>
    public static string? HeaderGap(NginxDirective directive)
    {
        if (directive.Args.Count < 2) return "add_header without a value";
        string name = directive.Args[0].ToLowerInvariant();
        string value = directive.Args[1].Trim();
        return name switch
        {
            "x-content-type-options" when value.Equals("nosniff", StringComparison.OrdinalIgnoreCase) => null,
            "x-frame-options" when value.Equals("DENY", StringComparison.OrdinalIgnoreCase) => null,
            "x-frame-options" when value.Equals("SAMEORIGIN", StringComparison.OrdinalIgnoreCase) =>
                null, // DENY is stricter and OpenAlgo frames none of its own pages
            "x-xss-protection" => null,
            "strict-transport-security" => HstsGap(value),
            "referrer-policy" when value.Equals(OpenAlgo.Appliance.Proxy.SecurityHeaders.ReferrerPolicy, StringComparison.OrdinalIgnoreCase) => null,
            "referrer-policy" => $"the appliance sends Referrer-Policy {OpenAlgo.Appliance.Proxy.SecurityHeaders.ReferrerPolicy}, not {value}",
            _ => $"the appliance does not send {directive.Args[0]}",
        };
    }

    private static string? HstsGap(string value)
    {
        var parts = value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var extras = parts.Where(p => !p.StartsWith("max-age", StringComparison.OrdinalIgnoreCase)).ToList();
        return extras.Count == 0 ? null : $"the appliance's HSTS is max-age=63072000 without {string.Join("; ", extras)}";
    }

    /// <summary><c>add_header Alt-Svc 'h3=":443"'</c>: advertises HTTP/3, which goes with <c>listen … quic</c>.</summary>
    public static bool AdvertisesHttp3(NginxDirective directive) =>
        directive.Name == "add_header" && directive.Args.Count >= 2
        && directive.Args[0].Equals("Alt-Svc", StringComparison.OrdinalIgnoreCase)
        && directive.Args[1].Contains("h3", StringComparison.Ordinal);

    /// <summary>Parses nginx sizes (<c>50M</c>, <c>512k</c>, <c>1g</c>, <c>0</c> = unlimited) into bytes.</summary>
    public static long? Size(string text)
    {
        if (text.Length == 0) return null;
        long factor = char.ToLowerInvariant(text[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 1 };
        string digits = factor == 1 ? text : text[..^1];
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value * factor : null;
    }

    /// <summary>Parses nginx times (<c>300s</c>, <c>5m</c>, <c>1h</c>, <c>86400</c>) into seconds.</summary>
    public static double? Seconds(string text)
    {
        if (text.Length == 0) return null;
        double factor = char.ToLowerInvariant(text[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 0 };
        string digits = factor == 0 ? text : text[..^1];
        if (text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)) { factor = 0.001; digits = text[..^2]; }
        if (factor == 0) factor = 1;
        return double.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out double value) ? value * factor : null;
    }
}
