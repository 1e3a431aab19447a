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
    public static void Configure(KestrelServerOptions kestrel, ApplianceOptions options, ListenerRegistry registry, CertificateHolder certificates, IReadOnlyDictionary<string, ulong>? systemdSockets = null)
    {
        kestrel.AddServerHeader = false;
        systemdSockets ??= new Dictionary<string, ulong>();

        // A socket systemd passed (LISTEN_FDNAMES https/http/internal) replaces the configured address:
        // no capability is needed for 80/443 and connections queue in the kernel across restarts.
        void Bind(string name, string address, Action<ListenOptions> configure)
        {
            if (systemdSockets.TryGetValue(name, out ulong fd)) kestrel.ListenHandle(fd, configure);
            else if (ListenAddress.TryParse(address, out var endPoint)) kestrel.Listen(endPoint, configure);
        }

        Bind("https", options.Listen.Https, listen =>
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
    }
}
