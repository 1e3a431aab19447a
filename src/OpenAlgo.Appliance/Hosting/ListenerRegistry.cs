using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>The three doors of the appliance.</summary>
internal enum ListenerKind
{
    /// <summary>Public TLS: <c>/ws</c>, later the proxied Flask app.</summary>
    Https,
    /// <summary>Public plain HTTP: redirect to HTTPS (and ACME HTTP-01).</summary>
    Http,
    /// <summary>127.0.0.1:8765: a site's market-data hub only, any path, loopback peers only (one per site).</summary>
    Internal,
    /// <summary>127.0.0.1:9765 (<c>Listen:Admin</c>): /metrics, /healthz and the status page; never public by default.</summary>
    Admin,
}

/// <summary>
/// Which Kestrel endpoint is which, and where it actually bound (port 0 in tests, sockets systemd
/// passed). Requests are routed by the listener that accepted them. Sites add and remove their
/// internal listeners at run time, so the list is replaced whole on every change.
/// </summary>
internal sealed class ListenerRegistry
{
    private readonly Lock _gate = new();
    private (ListenerKind Kind, ListenOptions Options, ulong? SystemdFd, string? Site)[] _listeners = [];

    /// <param name="site">The site an internal listener belongs to.</param>
    public void Add(ListenerKind kind, ListenOptions options, string? site = null)
    {
        // Recorded now: once bound, Kestrel replaces a FileHandleEndPoint with the socket's local
        // address, and ListenOptions.FileHandle reads 0 for every other endpoint.
        ulong? fd = options.EndPoint is FileHandleEndPoint handle ? handle.FileHandle : null;
        lock (_gate) _listeners = [.. _listeners, (kind, options, fd, site)];
        var feature = new ListenerKindFeature(kind);
        options.Use(next => connection =>
        {
            connection.Features.Set(feature);
            return next(connection);
        });
    }

    /// <summary>A site's internal listener closed.</summary>
    public void Remove(ListenOptions options)
    {
        lock (_gate) _listeners = [.. _listeners.Where(l => !ReferenceEquals(l.Options, options))];
    }

    /// <summary>Where a listener is bound, for logs: the address, and whether systemd passed the socket.</summary>
    public string Describe(ListenerKind kind, string? site = null)
    {
        foreach (var (k, o, fd, s) in Volatile.Read(ref _listeners))
        {
            if (k != kind || (site is not null && s != site)) continue;
            if (o.SocketPath is { } path) return $"unix:{path}";
            string bound = o.IPEndPoint?.ToString() ?? o.EndPoint.ToString() ?? "?";
            return fd is { } passed ? $"{bound} (socket from systemd, fd {passed})" : bound;
        }
        return "off";
    }

    /// <summary>True once a listener of <paramref name="kind"/> was bound (an address, a unix socket or a systemd fd); for <see cref="ListenerKind.Internal"/>, the given site's or any.</summary>
    public bool IsBound(ListenerKind kind, string? site = null)
    {
        foreach (var (k, o, _, s) in Volatile.Read(ref _listeners))
        {
            if (k == kind && (site is null || s == site) && (o.IPEndPoint is not null || o.EndPoint is Microsoft.AspNetCore.Connections.FileHandleEndPoint || o.SocketPath is not null)) return true;
        }
        return false;
    }

    /// <summary>The bound endpoint (valid after the server started); for <see cref="ListenerKind.Internal"/>, the given site's or the first.</summary>
    public IPEndPoint? EndPoint(ListenerKind kind, string? site = null)
    {
        foreach (var (k, o, _, s) in Volatile.Read(ref _listeners))
        {
            if (k == kind && (site is null || s == site)) return o.IPEndPoint;
        }
        return null;
    }

    public ListenerKind? KindOf(HttpContext context)
    {
        // Tagged per connection (works for systemd-passed sockets, which have no configured address).
        if (context.Features.Get<ListenerKindFeature>() is { } tagged) return tagged.Kind;
        var local = context.Connection.LocalIpAddress;
        int port = context.Connection.LocalPort;
        foreach (var (kind, options, _, _) in Volatile.Read(ref _listeners))
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
