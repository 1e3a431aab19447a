using System.Globalization;

namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// Where a <c>proxy_pass</c> sends requests: a unix socket (<c>http://unix:/path.sock</c>, optionally
/// <c>:/uri</c>) or a host and port (<c>http://127.0.0.1:8765/</c>), with an <c>upstream</c> block of
/// one server resolved to that server. <see cref="Unresolved"/> says why when it is neither.
/// </summary>
internal sealed record ProxyTarget(string Raw, string Scheme, string? UnixPath, string? Host, int Port, string Path, string? Unresolved)
{
    public bool IsUnix => UnixPath is not null;

    public bool IsLoopbackTcp => UnixPath is null && Host is "127.0.0.1" or "localhost" or "[::1]" or "::1";

    /// <summary>The appliance's <c>Proxy:Upstream</c> form: <c>unix:/path</c> or <c>http://host:port</c>.</summary>
    public string ApplianceUpstream => IsUnix ? "unix:" + UnixPath : $"http://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Same destination (socket or host:port), whatever the URI part.</summary>
    public bool SameDestination(ProxyTarget other) => Unresolved is null && other.Unresolved is null
        && (IsUnix ? other.UnixPath == UnixPath : !other.IsUnix && Port == other.Port && NormalHost(Host) == NormalHost(other.Host));

    public override string ToString() => IsUnix ? "unix:" + UnixPath : Unresolved is null ? $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}" : Raw;

    public static ProxyTarget Parse(string raw, IReadOnlyDictionary<string, NginxDirective> upstreams)
    {
        int schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0) return Bad(raw, "no scheme");
        string scheme = raw[..schemeEnd].ToLowerInvariant();
        string rest = raw[(schemeEnd + 3)..];
        if (scheme is not ("http" or "https")) return Bad(raw, $"scheme {scheme}");
        if (rest.Contains('$')) return Bad(raw, "the destination is computed from variables");
        if (rest.StartsWith("unix:", StringComparison.Ordinal))
        {
            // http://unix:/path.sock or http://unix:/path.sock:/uri — the socket path ends at the next ':'.
            string socket = rest[5..];
            string path = "";
            int colon = socket.IndexOf(':');
            if (colon >= 0)
            {
                path = socket[(colon + 1)..];
                socket = socket[..colon];
            }
            return new ProxyTarget(raw, scheme, socket, null, 0, path, null);
        }
        int slash = rest.IndexOf('/');
        string authority = slash < 0 ? rest : rest[..slash];
        string uri = slash < 0 ? "" : rest[slash..];
        if (upstreams.TryGetValue(authority, out var upstream))
        {
            var servers = upstream.Children("server").ToList();
            if (servers.Count != 1)
            {
                return Bad(raw, $"upstream {authority} ({upstream.Where}) has {servers.Count} servers");
            }
            var inner = Parse(scheme + "://" + servers[0].Arg + uri, new Dictionary<string, NginxDirective>());
            return inner with { Raw = raw };
        }
        string host;
        int port = scheme == "https" ? 443 : 80;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            host = close < 0 ? authority : authority[..(close + 1)];
            if (close >= 0 && close + 1 < authority.Length && authority[close + 1] == ':' && !int.TryParse(authority[(close + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out port)) return Bad(raw, "bad port");
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            if (colon >= 0 && !int.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port)) return Bad(raw, "bad port");
        }
        if (host.Length == 0) return Bad(raw, "no host");
        return new ProxyTarget(raw, scheme, null, host, port, uri, null);
    }

    private static ProxyTarget Bad(string raw, string why) => new(raw, "", null, null, 0, "", why);

    private static string? NormalHost(string? host) => host is "localhost" or "::1" or "[::1]" ? "127.0.0.1" : host;
}
