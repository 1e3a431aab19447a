using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>Binds the three listeners and the TLS policy. The certificate is read per handshake, so a swap needs no restart.</summary>
internal static class KestrelSetup
{
    public static void Configure(KestrelServerOptions kestrel, ApplianceOptions options, ListenerRegistry registry, CertificateHolder certificates)
    {
        kestrel.AddServerHeader = false;

        ListenAddress.TryParse(options.Listen.Https, out var https);
        kestrel.Listen(https, listen =>
        {
            // HTTP/1.1 only, as nginx was configured: WebSockets over h2 would need RFC 8441 on every path.
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificates.Current.Context,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    AllowRenegotiation = false,
                    ClientCertificateRequired = false,
                }),
            });
            registry.Add(ListenerKind.Https, listen);
        });

        if (ListenAddress.TryParse(options.Listen.Http, out var http))
        {
            kestrel.Listen(http, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                registry.Add(ListenerKind.Http, listen);
            });
        }

        if (ListenAddress.TryParse(options.Listen.Internal, out var @internal))
        {
            kestrel.Listen(@internal, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                registry.Add(ListenerKind.Internal, listen);
            });
        }
    }
}
