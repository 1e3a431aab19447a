using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>The three doors of the appliance.</summary>
internal enum ListenerKind
{
    /// <summary>Public TLS: <c>/ws</c>, later the proxied Flask app.</summary>
    Https,
    /// <summary>Public plain HTTP: redirect to HTTPS (and ACME HTTP-01).</summary>
    Http,
    /// <summary>127.0.0.1:8765: the market-data hub only, any path, loopback peers only.</summary>
    Internal,
}

/// <summary>
/// Which Kestrel endpoint is which, and where it actually bound (port 0 in tests, systemd fds
/// later). Requests are routed by the local endpoint they arrived on.
/// </summary>
internal sealed class ListenerRegistry
{
    private readonly List<(ListenerKind Kind, ListenOptions Options)> _listeners = [];

    public void Add(ListenerKind kind, ListenOptions options)
    {
        _listeners.Add((kind, options));
        var feature = new ListenerKindFeature(kind);
        options.Use(next => connection =>
        {
            connection.Features.Set(feature);
            return next(connection);
        });
    }

    /// <summary>Where the socket came from, for logs: an address, or a systemd fd.</summary>
    public string Describe(ListenerKind kind)
    {
        foreach (var (k, o) in _listeners)
        {
            if (k != kind) continue;
            // A socket passed by systemd also reports its address once bound; say where it came from.
            if (o.FileHandle is { } fd) return $"systemd fd {fd}" + (o.IPEndPoint is { } bound ? $" ({bound})" : "");
            return o.IPEndPoint?.ToString() ?? o.ToString()!;
        }
        return "off";
    }

    /// <summary>The bound endpoint (valid after the server started).</summary>
    public IPEndPoint? EndPoint(ListenerKind kind)
    {
        foreach (var (k, o) in _listeners)
        {
            if (k == kind) return o.IPEndPoint;
        }
        return null;
    }

    public ListenerKind? KindOf(HttpContext context)
    {
        // Tagged per connection (works for systemd-passed sockets, which have no configured address).
        if (context.Features.Get<ListenerKindFeature>() is { } tagged) return tagged.Kind;
        var local = context.Connection.LocalIpAddress;
        int port = context.Connection.LocalPort;
        foreach (var (kind, options) in _listeners)
        {
            var bound = options.IPEndPoint;
            if (bound is null || bound.Port != port) continue;
            if (bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) || Same(bound.Address, local)) return kind;
        }
        return null;
    }

    private static bool Same(IPAddress a, IPAddress? b)
    {
        if (b is null) return false;
        if (a.Equals(b)) return true;
        return (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);
    }
}

/// <summary>Set on every connection: which listener accepted it.</summary>
internal sealed record ListenerKindFeature(ListenerKind Kind);
