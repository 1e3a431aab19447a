namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// Where the Flask app listens, as <c>Proxy:Upstream</c> writes it: gunicorn's unix socket
/// (<c>unix:/var/python/openalgo/openalgo.sock</c>, install.sh's bind) or an HTTP origin
/// (<c>http://127.0.0.1:5000</c>, <c>python app.py</c> and Docker).
/// </summary>
internal sealed record FlaskAddress(string? UnixSocketPath, string DestinationPrefix)
{
    /// <summary>
    /// For a unix socket the authority is never dialled (the connect callback opens the socket);
    /// it only has to make a valid URI. The Host header is set from the client's request anyway.
    /// </summary>
    private const string UnixPrefix = "http://localhost";

    public bool IsUnixSocket => UnixSocketPath is not null;

    public override string ToString() => UnixSocketPath is null ? DestinationPrefix : "unix:" + UnixSocketPath;

    public static bool TryParse(string? text, out FlaskAddress address)
    {
        address = null!;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            // nginx writes "http://unix:/path"; "unix:/path" is gunicorn's --bind spelling. Both are accepted.
            string path = text["unix:".Length..];
            if (!Path.IsPathFullyQualified(path) || path.EndsWith('/')) return false;
            address = new FlaskAddress(path, UnixPrefix);
            return true;
        }
        if (text.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase)) return TryParse(text["http://".Length..], out address);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return false;
        if (uri.Scheme is not ("http" or "https")) return false;
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0) return false;
        address = new FlaskAddress(null, uri.GetLeftPart(UriPartial.Authority));
        return true;
    }
}
