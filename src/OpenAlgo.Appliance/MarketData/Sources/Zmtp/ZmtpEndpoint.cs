using System.Net;
using System.Net.Sockets;

namespace OpenAlgo.Appliance.MarketData.Sources.Zmtp;

/// <summary>
/// A ZeroMQ endpoint the bus binds, as libzmq reads it: <c>tcp://host:port</c> (<c>*</c> for every
/// IPv4 address, an IP literal or a name resolved once) or <c>ipc://path</c> (a Unix domain socket,
/// what libzmq's publishers connect to; <c>ipc://@name</c> is the abstract namespace).
/// </summary>
internal sealed record ZmtpEndpoint(EndPoint Address, string? SocketPath)
{
    public static ZmtpEndpoint Parse(string endpoint)
    {
        if (endpoint.StartsWith("tcp://", StringComparison.Ordinal))
        {
            string rest = endpoint[6..];
            int colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            {
                throw new FormatException($"'{endpoint}' has no port (tcp://host:port)");
            }
            string host = rest[..colon].Trim('[', ']');
            IPAddress address = host == "*" ? IPAddress.Any
                : IPAddress.TryParse(host, out var literal) ? literal
                : Dns.GetHostAddresses(host).OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
                    ?? throw new FormatException($"'{host}' does not resolve");
            return new ZmtpEndpoint(new IPEndPoint(address, port), null);
        }
        if (endpoint.StartsWith("ipc://", StringComparison.Ordinal) && endpoint.Length > 6)
        {
            string path = endpoint[6..];
            return path.StartsWith('@')
                ? new ZmtpEndpoint(new UnixDomainSocketEndPoint("\0" + path[1..]), null)
                : new ZmtpEndpoint(new UnixDomainSocketEndPoint(path), path);
        }
        throw new FormatException($"'{endpoint}' is not a tcp:// or ipc:// endpoint");
    }

    /// <summary>A listening, non-blocking socket on this endpoint.</summary>
    public Socket Bind()
    {
        var socket = Address is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            if (Address is IPEndPoint)
            {
                // As libzmq: a restart may rebind while old connections sit in TIME_WAIT (a live listener still refuses).
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }
            else if (SocketPath is not null && File.Exists(SocketPath))
            {
                // libzmq unlinks a stale path; one that someone still listens on is in use.
                if (IsListening(SocketPath)) throw new SocketException((int)SocketError.AddressAlreadyInUse);
                File.Delete(SocketPath);
            }
            socket.Bind(Address);
            socket.Listen(100);
            socket.Blocking = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsListening(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
