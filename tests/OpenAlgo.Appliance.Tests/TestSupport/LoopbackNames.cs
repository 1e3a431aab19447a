using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// Clients that dial 127.0.0.1 whatever host name the URL carries, so <c>https://a.test:PORT/</c>
/// sends SNI and <c>Host</c> <c>a.test</c> — as a browser whose DNS points a.test at this machine
/// would — without touching the system resolver. Certificates are accepted and kept for inspection.
/// </summary>
internal static class LoopbackNames
{
    public static SocketsHttpHandler Handler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    };

    public static HttpClient Http() => new(Handler()) { Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>A TLS handshake on 127.0.0.1:<paramref name="port"/> with SNI <paramref name="serverName"/> (none when null): the served leaf, or the failure.</summary>
    public static async Task<(X509Certificate2? Leaf, Exception? Error)> HandshakeAsync(int port, string? serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        X509Certificate2? leaf = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            leaf = certificate is null ? null : new X509Certificate2(certificate);
            return true;
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            // An empty TargetHost sends no SNI (a client dialling a bare IP).
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName ?? "",
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            }, timeout.Token);
            return (leaf, null);
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException or OperationCanceledException)
        {
            return (leaf, ex);
        }
    }
}
