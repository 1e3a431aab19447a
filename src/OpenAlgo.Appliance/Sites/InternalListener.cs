using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// A site's <c>Listen:Internal</c> (OpenAlgo's <c>WEBSOCKET_HOST:WEBSOCKET_PORT</c>): a small Kestrel
/// server of its own, so it opens and closes with its site — a reload that adds or removes a site
/// binds or frees its port while the public listeners and every other site keep running. Plain
/// HTTP/1.1; the socket systemd passed under the site's name replaces the configured address.
/// </summary>
internal sealed class InternalListener : IAsyncDisposable
{
    private readonly KestrelServer _server;
    private readonly ListenerRegistry _registry;
    private ListenOptions? _listen;

    private InternalListener(KestrelServer server, ListenerRegistry registry)
    {
        _server = server;
        _registry = registry;
    }

    /// <summary>The socket name systemd passes a site's internal listener under: <c>internal</c> for <c>default</c>, else <c>internal-&lt;site&gt;</c>.</summary>
    public static string SocketName(string site) => site == SiteOptions.DefaultName ? "internal" : $"internal-{site}";

    public IPEndPoint? EndPoint => _listen?.IPEndPoint;

    /// <summary>Binds and starts serving <paramref name="app"/>; null when the site has no internal listener.</summary>
    public static async Task<InternalListener?> StartAsync(SiteOptions site, ulong? systemdSocket, RequestDelegate app,
        ListenerRegistry registry, IServiceProvider services, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        IPEndPoint? endPoint = null;
        if (systemdSocket is null && !ListenAddress.TryParse(site.Listen.Internal, out endPoint)) return null;

        var options = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = services };
        // The same slowloris bounds as the public listeners (Http:*): OpenAlgo's port may be exposed too.
        KestrelLimits.Apply(options.Limits, services.GetRequiredService<ApplianceOptions>().Http);
        var transportOptions = new SocketTransportOptions();
        SocketTransport.Configure(transportOptions);
        var transport = new SocketTransportFactory(Options.Create(transportOptions), loggers);
        var server = new KestrelServer(Options.Create(options), transport, loggers);
        var listener = new InternalListener(server, registry);
        void Configure(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1;
            // Upgraded WebSockets write their frames straight into the socket's pipe (see ConnectionOutputFeature).
            listen.UseConnectionOutput();
            registry.Add(ListenerKind.Internal, listen, site.Name);
            listener._listen = listen;
        }
        if (systemdSocket is { } fd) options.ListenHandle(fd, Configure);
        else options.Listen(endPoint!, Configure);
        try
        {
            await server.StartAsync(new Application(app), cancellationToken);
        }
        catch
        {
            if (listener._listen is { } listen) registry.Remove(listen);
            server.Dispose();
            throw;
        }
        return listener;
    }

    /// <summary>Stops accepting, gives open connections until <paramref name="cancellationToken"/> to finish, then closes them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _server.StopAsync(cancellationToken);
        }
        finally
        {
            if (_listen is { } listen) _registry.Remove(listen);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_listen is { } listen) _registry.Remove(listen);
        await Task.Yield();
        _server.Dispose();
    }

    private sealed class Application(RequestDelegate app) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => app(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }
}
