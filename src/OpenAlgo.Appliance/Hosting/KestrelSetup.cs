using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>Binds the three listeners and the TLS policy. The certificate is read per handshake, so a swap needs no restart.</summary>
internal static class KestrelSetup
{
    private const string AcmeTlsItem = "acme-tls/1";

    public static void Configure(KestrelServerOptions kestrel, ApplianceOptions options, ListenerRegistry registry, CertificateHolder certificates, AcmeChallengeResponder acme, IReadOnlyDictionary<string, ulong>? systemdSockets = null)
    {
        kestrel.AddServerHeader = false;
        systemdSockets ??= new Dictionary<string, ulong>();

        // A socket systemd passed (LISTEN_FDNAMES https/http/internal) replaces the configured address:
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
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                // Kestrel wants a selector; OnAuthenticate below replaces it with the cached full-chain context.
                ServerCertificateSelector = (_, _) => certificates.Current.Leaf,
                // RFC 8737: only a ClientHello that offers exactly acme-tls/1 gets the validation certificate.
                TlsClientHelloBytesCallback = (connection, hello) =>
                {
                    if (TlsClientHello.TryParse(hello, out string? name, out var protocols) && protocols is ["acme-tls/1"])
                    {
                        connection.Items[AcmeTlsItem] = name;
                    }
                },
                OnAuthenticate = (connection, ssl) =>
                {
                    ssl.ServerCertificate = null;
                    ssl.ServerCertificateSelectionCallback = null;
                    ssl.AllowRenegotiation = false;
                    if (connection.Items.TryGetValue(AcmeTlsItem, out var name) && acme.TryGetTlsAlpn01(name as string, out var validation))
                    {
                        ssl.ServerCertificateContext = validation;
                        ssl.ApplicationProtocols = [AcmeChallengeResponder.AcmeTls];
                        return;
                    }
                    // Built once per certificate: the full chain goes on the wire.
                    ssl.ServerCertificateContext = certificates.Current.Context;
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
                // Full 16 KiB TLS records for large responses (see FullRecordWriter).
                connection.Transport = new FullRecordWriter.Transport(connection.Transport);
                return next(connection);
            });
            registry.Add(ListenerKind.Https, listen);
        });

        Bind("http", options.Listen.Http, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            registry.Add(ListenerKind.Http, listen);
        });

        Bind("internal", options.Listen.Internal, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            registry.Add(ListenerKind.Internal, listen);
        });

        Bind("admin", options.Listen.Admin, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            registry.Add(ListenerKind.Admin, listen);
        });
    }
}
