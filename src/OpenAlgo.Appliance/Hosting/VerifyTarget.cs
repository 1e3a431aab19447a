namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// What <c>verify</c> accepts as its argument, as the interface contract says:
/// <c>https://host[:port]/</c>, <c>host:port</c> or a bare <c>host</c> (IPv6 in brackets).
/// </summary>
internal static class VerifyTarget
{
    public static bool TryParse(string text, out Uri url, out string? error)
    {
        url = null!;
        error = null;
        string trimmed = text.Trim();
        string candidate = trimmed.Contains("://", StringComparison.Ordinal) ? trimmed : "https://" + trimmed;
        if (Uri.TryCreate(candidate, UriKind.Absolute, out var parsed) && parsed.Host.Length > 0)
        {
            if (parsed.Scheme is "https" or "wss")
            {
                url = new UriBuilder(parsed) { Scheme = "https", Port = parsed.IsDefaultPort ? 443 : parsed.Port }.Uri;
                return true;
            }
            if (parsed.Scheme is "http" or "ws")
            {
                error = $"verify: '{text}' is a plain {parsed.Scheme} URL; verify checks the TLS side. Fix: give the HTTPS listener's address (Listen:Https), for example https://{parsed.Host}/ or {parsed.Host}:8443 for the demo.";
                return false;
            }
        }
        error = $"verify: '{text}' is not an address. Fix: write https://HOST[:PORT]/, HOST:PORT or HOST (for example 127.0.0.1:8443 or trade.example.com).";
        return false;
    }

    /// <summary>
    /// The Origin websocket-client (the OpenAlgo Python SDK's transport) sends for a wss:// URL
    /// without an origin option: <c>http://HOST[:PORT]</c>, the port left out when it is 80 or 443,
    /// IPv6 hosts in brackets (websocket/_handshake.py, _get_handshake_headers, 1.2.3 in Debian 12).
    /// </summary>
    public static string SdkOrigin(Uri url)
    {
        int port = url.IsDefaultPort ? 443 : url.Port;
        string host = url.HostNameType == UriHostNameType.IPv6 ? $"[{url.IdnHost.Trim('[', ']')}]" : url.IdnHost;
        return port is 80 or 443 ? $"http://{host}" : $"http://{host}:{port}";
    }
}
