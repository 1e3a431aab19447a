using Microsoft.Extensions.Primitives;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Security;

/// <summary>
/// Which web pages may reach the cookie-authenticated <c>/socket.io/</c> — the defence against
/// cross-site WebSocket hijacking that OpenAlgo never had (Flask-SocketIO runs with
/// <c>cors_allowed_origins="*"</c>). Allowed: no Origin at all (SDKs, scripts, curl);
/// <c>https://</c> + one of <c>Tls:Domains</c> on the default port or the port the client
/// connected to; every entry of <c>Security:AllowedOrigins</c> (<c>*</c> = any). With no domain
/// configured, the page must come from the host the request is addressed to (same origin), so the
/// UI still works on a bare IP. <c>/ws</c> is held to it only with <c>Security:CheckWsOrigin</c>.
/// One instance per set of options (a site), reloaded in place on SIGHUP.
/// </summary>
internal sealed class OriginPolicy
{
    private State _state;

    public OriginPolicy(SiteOptions site) => _state = State.From(site);

    /// <summary>The policy of a configuration's first site (its only one without Sites).</summary>
    public OriginPolicy(ApplianceOptions options) : this(options.EffectiveSites[0])
    {
    }

    /// <summary>SIGHUP: new domains and allowed origins apply to the next handshake.</summary>
    public void Reload(SiteOptions site) => Volatile.Write(ref _state, State.From(site));

    public void Reload(ApplianceOptions options) => Reload(options.EffectiveSites[0]);

    private HashSet<string> CurrentDomains => Volatile.Read(ref _state).Domains;
    private HashSet<string> CurrentOrigins => Volatile.Read(ref _state).Origins;
    private bool AnyOriginAllowed => Volatile.Read(ref _state).AnyOrigin;

    /// <summary><c>Security:CheckWsOrigin</c>: whether <c>/ws</c> handshakes are held to the policy at all.</summary>
    public bool ChecksWs => Volatile.Read(ref _state).CheckWs;

    private sealed record State(HashSet<string> Domains, HashSet<string> Origins, bool AnyOrigin, bool CheckWs)
    {
        public static State From(SiteOptions options)
        {
            var domains = new HashSet<string>(options.Tls.Domains.Select(d => d.Trim().TrimEnd('.')), StringComparer.OrdinalIgnoreCase);
            var origins = new HashSet<string>(StringComparer.Ordinal);
            bool any = false;
            foreach (var entry in options.Security.AllowedOrigins)
            {
                if (entry.Trim() == "*") any = true;
                else if (TryNormalize(entry, out var origin)) origins.Add(origin.ToString());
            }
            return new State(domains, origins, any, options.Security.CheckWsOrigin);
        }
    }

    /// <param name="origins">The request's Origin header values (a browser sends exactly one).</param>
    /// <param name="requestHost">The Host header: its port is the port the client dialled.</param>
    /// <param name="allowPlainHttpScheme">
    /// Also accept <c>http://</c> + a configured domain. Used on <c>/ws</c> only (when checked): websocket-client,
    /// the OpenAlgo SDK's transport, sends <c>Origin: http://DOMAIN</c> by default even for
    /// <c>wss://DOMAIN/ws</c>, and <c>/ws</c> authenticates by API key, not by cookies. No page
    /// of ours exists at <c>http://DOMAIN</c> (that listener only redirects). Socket.IO rides on
    /// cookies, so there only <c>https://</c> counts.
    /// </param>
    public bool IsAllowed(StringValues origins, HostString requestHost, bool allowPlainHttpScheme)
    {
        if (origins.Count == 0) return true;
        if (AnyOriginAllowed) return true;
        // Two Origin headers are not something a browser sends; every one of them must pass.
        foreach (var value in origins)
        {
            if (!IsAllowed(value, requestHost, allowPlainHttpScheme)) return false;
        }
        return true;
    }

    private bool IsAllowed(string? value, HostString requestHost, bool allowPlainHttpScheme)
    {
        // "null" (sandboxed frames, file://) and anything unparsable are foreign.
        if (!TryNormalize(value, out var origin)) return false;
        if (CurrentOrigins.Contains(origin.ToString())) return true;
        if (!(origin.Scheme == "https" || (allowPlainHttpScheme && origin.Scheme == "http"))) return false;

        string requestHostName = requestHost.Host.Trim('[', ']').TrimEnd('.');
        bool hostMatches = CurrentDomains.Count > 0
            ? CurrentDomains.Contains(origin.Host)
            : string.Equals(origin.Host, requestHostName, StringComparison.OrdinalIgnoreCase);
        if (!hostMatches) return false;
        // The page's port: the scheme's default, or the one this request came in on (8443 in the demo).
        int requestPort = requestHost.Port ?? (origin.Scheme == "https" ? 443 : 80);
        return origin.Port == origin.DefaultPort || origin.Port == requestPort;
    }

    /// <summary>Parses <c>scheme://host[:port]</c> (no path, query or user info) into its canonical form.</summary>
    public static bool TryNormalize(string? text, out Origin origin)
    {
        origin = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (text.EndsWith('/')) text = text[..^1];
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return false;
        if (uri.Scheme is not ("http" or "https")) return false;
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0) return false;
        origin = new Origin(uri.Scheme, uri.IdnHost.Trim('[', ']').TrimEnd('.').ToLowerInvariant(), uri.Port, uri.Scheme == "https" ? 443 : 80);
        return true;
    }

    /// <summary>An origin in canonical form: lower-case, default port left out when printed.</summary>
    internal readonly record struct Origin(string Scheme, string Host, int Port, int DefaultPort)
    {
        public override string ToString()
        {
            string host = Host.Contains(':') ? $"[{Host}]" : Host;
            return Port == DefaultPort ? $"{Scheme}://{host}" : $"{Scheme}://{host}:{Port}";
        }
    }
}
