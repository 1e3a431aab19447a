using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>A server <see cref="SslStream"/> and a client one over a real loopback TCP connection, handshake done.</summary>
internal sealed class TlsPair : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly TcpClient _accepted;

    private TlsPair(TcpClient client, TcpClient accepted, SslStream server, SslStream tls)
    {
        _client = client;
        _accepted = accepted;
        Server = server;
        Client = tls;
    }

    public SslStream Server { get; }
    public SslStream Client { get; }

    /// <param name="validate">The client's view of the server's certificate and the chain it received.</param>
    public static async Task<TlsPair> HandshakeAsync(SslStreamCertificateContext context, RemoteCertificateValidationCallback? validate = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var connecting = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var accepted = await listener.AcceptTcpClientAsync();
        await connecting;
        var server = new SslStream(accepted.GetStream());
        var tls = new SslStream(client.GetStream(), false, validate ?? ((_, _, _, _) => true));
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }),
            tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }));
        return new TlsPair(client, accepted, server, tls);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        _client.Dispose();
        _accepted.Dispose();
    }
}
