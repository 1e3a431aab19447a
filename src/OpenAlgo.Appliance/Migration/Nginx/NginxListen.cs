using System.Globalization;

namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// One <c>listen</c>: address (null for every address), port (80 when only an address is given),
/// and the flags that matter here. <c>listen 443 ssl</c>, <c>listen [::]:443 ssl ipv6only=on</c>,
/// <c>listen 127.0.0.1:8080</c>, <c>listen *:80 default_server</c>, <c>listen unix:/run/x.sock</c>.
/// </summary>
internal sealed record NginxListen(string? Address, int Port, string? UnixPath, bool Ssl, bool DefaultServer, bool ProxyProtocol, NginxDirective Directive)
{
    public bool IsIPv6 => Address is { } a && a.StartsWith('[');

    /// <summary>On every address of its family (nothing, <c>*</c>, <c>0.0.0.0</c> or <c>[::]</c>).</summary>
    public bool IsWildcard => Address is null or "*" or "0.0.0.0" or "[::]";

    public bool IsLoopback => Address is "127.0.0.1" or "[::1]" or "localhost";

    /// <summary><c>listen … http2</c> (nginx before 1.25.1; later <c>http2 on;</c>).</summary>
    public bool Http2 => Directive.Name == "listen" && Directive.Args.Skip(1).Contains("http2");

    /// <summary><c>listen 443 quic</c>: HTTP/3 over UDP.</summary>
    public bool Quic => Directive.Name == "listen" && Directive.Args.Skip(1).Contains("quic");

    /// <summary><c>ipv6only=off</c>: an IPv6 wildcard that takes IPv4 too (nginx's default is on).</summary>
    public bool DualStack => Directive.Name == "listen" && Directive.Args.Skip(1).Contains("ipv6only=off");

    public override string ToString() => UnixPath is not null ? "unix:" + UnixPath : (Address is null ? "*" : Address) + ":" + Port.ToString(CultureInfo.InvariantCulture);

    public static NginxListen Parse(NginxDirective directive)
    {
        if (directive.Args.Count == 0) throw new NginxSyntaxException(directive.File, directive.Line, "invalid number of arguments in \"listen\" directive");
        string spec = directive.Args[0];
        var flags = directive.Args.Skip(1).ToList();
        bool ssl = flags.Contains("ssl");
        bool defaultServer = flags.Contains("default_server") || flags.Contains("default");
        bool proxyProtocol = flags.Contains("proxy_protocol");
        if (spec.StartsWith("unix:", StringComparison.Ordinal))
        {
            return new NginxListen(null, 0, spec[5..], ssl, defaultServer, proxyProtocol, directive);
        }
        string? address;
        string portText;
        if (spec.StartsWith('['))
        {
            int close = spec.IndexOf(']');
            if (close < 0) throw new NginxSyntaxException(directive.File, directive.Line, $"invalid IPv6 address in \"listen {spec}\"");
            address = spec[..(close + 1)];
            portText = close + 1 < spec.Length && spec[close + 1] == ':' ? spec[(close + 2)..] : "80";
        }
        else if (spec.Contains(':'))
        {
            int colon = spec.LastIndexOf(':');
            address = spec[..colon];
            portText = spec[(colon + 1)..];
        }
        else if (spec.All(char.IsAsciiDigit))
        {
            address = null;
            portText = spec;
        }
        else
        {
            address = spec;
            portText = "80";
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new NginxSyntaxException(directive.File, directive.Line, $"invalid port in \"listen {spec}\"");
        }
        return new NginxListen(address, port, null, ssl, defaultServer, proxyProtocol, directive);
    }
}
