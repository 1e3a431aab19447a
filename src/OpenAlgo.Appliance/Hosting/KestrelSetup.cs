using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Edge;
using OpenAlgo.Appliance.MarketData.WebSockets;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// Binds the public listeners (HTTPS and HTTP, shared by every site) and the TLS policy. The
/// site, and so the certificate, is chosen per connection from the ClientHello (<see cref="SniRouter"/>)
/// and the certificate is read per handshake, so a swap needs no restart. Each site's internal
/// listener is its own server (<see cref="Sites.InternalListener"/>).
/// </summary>
internal static class KestrelSetup
{
    public static void Configure(KestrelServerOptions kestrel, ApplianceOptions options, ListenerRegistry registry, SniRouter sni, AcmeChallengeResponder acme, IReadOnlyDictionary<string, ulong>? systemdSockets = null)
    {
        kestrel.AddServerHeader = false;
        var tlsLogger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OpenSslBuffers).FullName!);
        KestrelLimits.Apply(kestrel.Limits, options.Http);
        systemdSockets ??= new Dictionary<string, ulong>();

        // A socket systemd passed (LISTEN_FDNAMES https/http) replaces the configured address:
        // no capability is needed for 80/443 and connections queue in the kernel across restarts.
        void Bind(string name, string address, Action<ListenOptions> configure)
        {
            if (systemdSockets.TryGetValue(name, out ulong fd)) kestrel.ListenHandle(fd, configure);
            else if (ListenAddress.TryParse(address, out var endPoint)) kestrel.Listen(endPoint, configure);
            else if (address.StartsWith("unix:", StringComparison.Ordinal)) kestrel.ListenUnixSocket(UnixSocket.Prepare(address[5..]), configure);
        }

        Bind("https", options.Listen.Https, listen =>
        {
            // HTTP/1.1 only, as nginx was configured: WebSockets over h2 would need RFC 8441 on every path.
            listen.Protocols = HttpProtocols.Http1;
            // Before TLS: which site (by SNI), and whether this is an ACME TLS-ALPN-01 validation.
            listen.Use(next => connection => sni.OnConnectionAsync(connection, next));
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                HandshakeTimeout = TimeSpan.FromSeconds(options.Http.TlsHandshakeTimeoutSeconds),
                // Kestrel wants a selector; OnAuthenticate below replaces it with the cached full-chain context.
                ServerCertificateSelector = (connection, _) => SiteOf(connection).Certificates.Current.Leaf,
                OnAuthenticate = (connection, ssl) =>
                {
                    ssl.ServerCertificate = null;
                    ssl.ServerCertificateSelectionCallback = null;
                    ssl.AllowRenegotiation = false;
                    // RFC 8737: only a ClientHello that offers exactly acme-tls/1 gets the validation certificate.
                    if (connection.Items.TryGetValue(SniRouter.AcmeTlsItem, out var name) && acme.TryGetTlsAlpn01(name as string, out var validation))
                    {
                        ssl.ServerCertificateContext = validation;
                        ssl.ApplicationProtocols = [AcmeChallengeResponder.AcmeTls];
                        return;
                    }
                    // The site's certificate, built once per certificate: the full chain goes on the wire.
                    ssl.ServerCertificateContext = SiteOf(connection).Certificates.Current.Context;
                    ssl.ApplicationProtocols = [SslApplicationProtocol.Http11];
                },
            });
            // A validation handshake has nothing to say afterwards: close it instead of parsing HTTP.
            listen.Use(next => connection =>
            {
                if (connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ITlsApplicationProtocolFeature>()?.ApplicationProtocol.Span.SequenceEqual("acme-tls/1"u8) == true)
                {
                    return Task.CompletedTask;
                }
                // An idle connection holds no TLS record buffers (see OpenSslBuffers).
                if (connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ISslStreamFeature>()?.SslStream is { } ssl) OpenSslBuffers.ReleaseWhenIdle(ssl, tlsLogger);
                // Full 16 KiB TLS records for large responses (see FullRecordWriter).
                connection.Transport = new FullRecordWriter.Transport(connection.Transport);
                return next(connection);
            });
            // An upgraded /ws writes its frames straight into that output (see ConnectionOutputFeature).
            listen.UseConnectionOutput();
            registry.Add(ListenerKind.Https, listen);
        });

        Bind("http", options.Listen.Http, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            registry.Add(ListenerKind.Http, listen);
        });

        Bind("admin", options.Listen.Admin, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            registry.Add(ListenerKind.Admin, listen);
        });
    }

    /// <summary>Set by <see cref="SniRouter"/> before the handshake, which it refuses when no site serves the name.</summary>
    private static Site SiteOf(ConnectionContext? connection) =>
        connection?.Features.Get<SiteConnectionFeature>()?.Site ?? throw new InvalidOperationException("TLS connection without a site");
}
