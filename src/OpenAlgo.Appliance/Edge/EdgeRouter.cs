using System.Net;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Edge;

/// <summary>
/// What nginx's server blocks did. HTTPS: the site the TLS connection was opened for (its SNI name)
/// serves the request — <c>/ws</c> and <c>/ws/…</c> go to its market-data hub, everything else
/// except ACME challenges to its Flask app when <c>Proxy:Upstream</c> is set; HSTS on every
/// response; a <c>Host</c> of another site gets 421. Plain HTTP answers ACME HTTP-01 challenges
/// (any site's) and redirects everything else to HTTPS with 308 — when <c>Host</c> names a site.
/// A site's internal listener is its market-data hub on any path, for loopback peers only. With one
/// site every host name reaches it; with several a name no site serves gets 421, never another
/// site's content. <c>/ws</c> accepts any Origin unless the site's <c>Security:CheckWsOrigin</c> is on.
/// </summary>
internal sealed partial class EdgeRouter(ListenerRegistry listeners, SiteRegistry sites, AcmeChallengeResponder acme, Observability.Admin.AdminEndpoints admin, ConfigurationOrigin configuration, ILogger<EdgeRouter> logger)
{
    /// <summary>Two years, as install.sh's nginx config sends it.</summary>
    public const string HstsValue = "max-age=63072000";

    public Task HandleAsync(HttpContext context)
    {
        switch (listeners.KindOf(context))
        {
            case ListenerKind.Http:
                if (AcmeChallengeResponder.IsHttp01Path(context.Request.Path.Value ?? "")) return acme.AnswerHttp01Async(context);
                if (sites.ForHost(context.Request.Host.Host) is null) return Misdirected(context);
                return RedirectToHttps(context);
            case ListenerKind.Admin:
                return admin.HandleAsync(context);
            case ListenerKind.Https:
                context.Response.Headers.StrictTransportSecurity = HstsValue;
                var site = sites.ForHost(context.Request.Host.Host);
                var connectionSite = context.Features.Get<SiteConnectionFeature>()?.Site;
                // The connection was opened (and its certificate chosen) for one site; a request for
                // another one on it is misdirected (RFC 9110 §15.5.20), and a client retries on a new connection.
                if (site is null) return Misdirected(context);
                if (connectionSite is not null && connectionSite.Name != site.Name) return Misdirected(context, connectionSite);
                return HandleSiteAsync(site, context);
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
        }
    }

    private Task HandleSiteAsync(Site site, HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == "/ws" || path.StartsWith("/ws/", StringComparison.Ordinal))
        {
            if (!site.Origins.AdmitsMarketData(context)) return Task.CompletedTask;
            return site.MarketData.HandleAsync(context, "https");
        }
        if (!AcmeChallengeResponder.IsHttp01Path(path))
        {
            // Without Proxy:Upstream a page says what to set, not an empty 404.
            return site.Flask.IsEnabled ? site.Flask.HandleAsync(context) : FlaskAppNotConfigured.WriteAsync(context, configuration.FileToEdit, site.Options.KeyPrefix);
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>A site's internal listener: its hub on any path, for loopback peers only.</summary>
    public Task HandleInternalAsync(Site site, HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote))
        {
            Log.NonLoopback(logger, remote?.ToString() ?? "?");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }
        return site.MarketData.HandleAsync(context, "internal");
    }

    /// <param name="connectionSite">The site the TLS connection was opened for, when <c>Host</c> names another one.</param>
    private Task Misdirected(HttpContext context, Site? connectionSite = null)
    {
        string host = context.Request.Host.Host;
        Log.Misdirected(logger, string.IsNullOrEmpty(host) ? "(none)" : host, context.Connection.RemoteIpAddress?.ToString() ?? "?");
        context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        // Served here, but not on this connection: say so, or an operator reads "not served" and looks
        // for a configuration error that is not there.
        string why = connectionSite is not null
            ? $"this TLS connection was opened for site {connectionSite.Name}; {host} is served on a connection of its own (its name in SNI)"
            : $"no site here serves {(string.IsNullOrEmpty(host) ? "this request" : host)}";
        return context.Response.WriteAsync($"421 Misdirected Request: {why}\n");
    }

    private Task RedirectToHttps(HttpContext context)
    {
        var https = listeners.EndPoint(ListenerKind.Https);
        string host = context.Request.Host.Host;
        if (string.IsNullOrEmpty(host)) host = context.Connection.LocalIpAddress?.ToString() ?? "localhost";
        if (host.Contains(':') && !host.StartsWith('[')) host = $"[{host}]";
        string port = https is null || https.Port == 443 ? "" : $":{https.Port}";
        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = $"https://{host}{port}{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}";
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(1400, LogLevel.Warning, "Refused a connection to the internal listener from non-loopback {Remote}")]
        public static partial void NonLoopback(ILogger logger, string remote);

        [LoggerMessage(1421, LogLevel.Debug, "Answered 421 to a request for {Host} from {Remote}: no site here serves that name")]
        public static partial void Misdirected(ILogger logger, string host, string remote);
    }
}
