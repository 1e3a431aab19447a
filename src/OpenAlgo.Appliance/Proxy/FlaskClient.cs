using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// The connection pool to the Flask app: one <see cref="HttpMessageInvoker"/> over a
/// <see cref="SocketsHttpHandler"/>, dialling gunicorn's unix socket or a TCP address. Connections
/// are re-dialled on demand, so a restarted gunicorn is picked up without any action here.
/// </summary>
internal sealed class FlaskClient : IDisposable
{
    public FlaskClient(SiteOptions options)
    {
        if (!FlaskAddress.TryParse(options.Proxy.Upstream, out var address)) return;
        Address = address;
        Invoker = new HttpMessageInvoker(CreateHandler(address), disposeHandler: true);
    }

    /// <summary>Null when <c>Proxy:Upstream</c> is empty: the proxy is off.</summary>
    public FlaskAddress? Address { get; }

    public HttpMessageInvoker? Invoker { get; }

    [MemberNotNullWhen(true, nameof(Address), nameof(Invoker))]
    public bool IsEnabled => Address is not null;

    private static SocketsHttpHandler CreateHandler(FlaskAddress address)
    {
        // The settings YARP recommends for a forwarder's client: the proxy passes things through
        // as they are — no redirects followed, no decompression, no cookie jar, no outbound proxy,
        // no tracing headers added.
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            // gunicorn closes an idle keep-alive connection after 2 s (--keep-alive default).
            // Retiring ours first means a request never goes out on a socket gunicorn is closing,
            // which would surface as a spurious 502.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
        };
        if (address.UnixSocketPath is { } path)
        {
            var endPoint = new UnixDomainSocketEndPoint(path);
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return handler;
    }

    public void Dispose() => Invoker?.Dispose();
}
