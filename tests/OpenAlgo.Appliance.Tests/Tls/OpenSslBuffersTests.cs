using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Tests.Tls;

/// <summary>Idle TLS connections hold no OpenSSL record buffers: SSL_MODE_RELEASE_BUFFERS is set after the handshake.</summary>
public sealed class OpenSslBuffersTests
{
    [Fact]
    public async Task The_mode_is_set_on_a_server_stream_after_its_handshake_and_traffic_still_flows()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await using var pair = await TlsPair.HandshakeAsync(SslStreamCertificateContext.Create(certificate, null));
        var (server, tls) = (pair.Server, pair.Client);

        Assert.Equal(0, OpenSslBuffers.Mode(server) & OpenSslBuffers.ReleaseBuffersBit);
        long applied = OpenSslBuffers.Applied;
        Assert.True(OpenSslBuffers.ReleaseWhenIdle(server), OpenSslBuffers.Problem);
        Assert.NotEqual(0, OpenSslBuffers.Mode(server) & OpenSslBuffers.ReleaseBuffersBit);
        Assert.True(OpenSslBuffers.Applied > applied);

        // Buffers come and go per record now: large and small records both ways still arrive intact.
        foreach (int size in new[] { 1, 100_000, 7 })
        {
            var sent = RandomNumberGenerator.GetBytes(size);
            await server.WriteAsync(sent);
            Assert.Equal(sent, await ReadExactlyAsync(tls, size));
            await tls.WriteAsync(sent);
            Assert.Equal(sent, await ReadExactlyAsync(server, size));
        }
    }

    [Fact]
    public async Task Connections_to_the_https_listener_get_the_mode()
    {
        await using var appliance = await TestAppliance.StartAsync();
        long applied = OpenSslBuffers.Applied;
        await using var client = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await client.AuthenticateAsync();
        Assert.True(OpenSslBuffers.Applied > applied, OpenSslBuffers.Problem);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }
}
