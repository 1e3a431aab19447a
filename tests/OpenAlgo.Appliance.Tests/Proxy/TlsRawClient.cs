using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>
/// HTTP/1.1 by hand over TLS, for what HttpClient hides: the exact status of a refused WebSocket
/// handshake, a request that declares a body it never sends, an upgraded connection left idle.
/// </summary>
internal sealed class TlsRawClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _tls;

    private TlsRawClient(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        _tls = tls;
    }

    public static async Task<TlsRawClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        return new TlsRawClient(tcp, tls);
    }

    public async Task WriteAsync(string text) => await WriteAsync(Encoding.ASCII.GetBytes(text));

    public async Task WriteAsync(byte[] data)
    {
        await _tls.WriteAsync(data);
        await _tls.FlushAsync();
    }

    /// <summary>The response head (status line and headers) and whatever body bytes came with it.</summary>
    public async Task<string> ReadHeadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await _tls.ReadAsync(one, cts.Token) == 0) break;
            head.Add(one[0]);
        }
        return Encoding.ASCII.GetString(head.ToArray());
    }

    /// <summary>Reads until the server closes; true if it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _tls.ReadAsync(buffer, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public static string WebSocketHandshake(string path, int port, string? origin = null, string? cookie = null) =>
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + (origin is null ? "" : $"Origin: {origin}\r\n")
        + (cookie is null ? "" : $"Cookie: {cookie}\r\n")
        + "\r\n";

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync();
        _tcp.Dispose();
    }
}
