using System.Net;
using System.Net.Http.Headers;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// The request headers install.sh's nginx set on every proxied request, so Flask (with
/// <c>TRUST_PROXY_HEADERS</c>, i.e. Werkzeug's ProxyFix) sees the client as before:
/// <code>
/// proxy_set_header Host              $host;
/// proxy_set_header X-Real-IP         $remote_addr;
/// proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;
/// proxy_set_header X-Forwarded-Proto $scheme;
/// proxy_set_header X-Forwarded-Host  $host;
/// </code>
/// One difference on purpose: Host keeps the port the client used (nginx's <c>$host</c> drops
/// it), so redirects Flask builds still work when the appliance listens on a port other than 443.
/// </summary>
internal static class ForwardedHeaders
{
    public static void Apply(HttpContext context, HttpRequestHeaders headers)
    {
        var request = context.Request;
        string host = request.Host.Value ?? "";
        string client = ClientAddress(context);

        headers.Remove("Host");
        if (host.Length > 0) headers.TryAddWithoutValidation("Host", host);

        // Client-sent values of these are replaced, never trusted.
        Set(headers, "X-Real-IP", client);
        Set(headers, "X-Forwarded-Proto", request.Scheme);
        Set(headers, "X-Forwarded-Host", host);

        // $proxy_add_x_forwarded_for: what the client sent, then the peer address. ProxyFix with
        // x_for=1 (OpenAlgo's setting) reads only the last entry, the one written here.
        var sent = request.Headers["X-Forwarded-For"];
        string forwardedFor = sent.Count == 0 ? client : string.Join(", ", sent.ToArray()) + ", " + client;
        Set(headers, "X-Forwarded-For", forwardedFor);
    }

    /// <summary>The peer's address as nginx prints <c>$remote_addr</c>: IPv4 without the ::ffff: mapping.</summary>
    public static string ClientAddress(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null) return "unix";
        if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
        return remote.ToString();
    }

    private static void Set(HttpRequestHeaders headers, string name, string value)
    {
        headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    }
}
