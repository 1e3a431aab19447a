using System.Net;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.MarketData;
using OpenAlgo.Appliance.Proxy;
using OpenAlgo.Appliance.Security;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Edge;

/// <summary>
/// What nginx's server blocks did, by listener: HTTPS serves <c>/ws</c> and <c>/ws/…</c> (HSTS on
/// every response); plain HTTP answers ACME HTTP-01 challenges and redirects everything else to
/// HTTPS with 308; the internal listener is
/// the market-data hub on any path, for loopback peers only. Everything else on HTTPS except ACME
/// challenges goes to the Flask app when <c>Proxy:Upstream</c> is set, else gets a page saying what
/// to set (<see cref="FlaskAppNotConfigured"/>). <c>/ws</c> accepts any
/// Origin unless <c>Security:CheckWsOrigin</c> is on.
/// </summary>
internal sealed partial class EdgeRouter(ListenerRegistry listeners, MarketDataEndpoint marketData, OriginGuard origins, FlaskProxy proxy, AcmeChallengeResponder acme, Observability.Admin.AdminEndpoints admin, ConfigurationOrigin configuration, ILogger<EdgeRouter> logger)
{
    /// <summary>Two years, as install.sh's nginx config sends it.</summary>
    public const string HstsValue = "max-age=63072000";

    public Task HandleAsync(HttpContext context)
    {
        switch (listeners.KindOf(context))
        {
            case ListenerKind.Internal:
                var remote = context.Connection.RemoteIpAddress;
                if (remote is null || !IPAddress.IsLoopback(remote))
                {
                    Log.NonLoopback(logger, remote?.ToString() ?? "?");
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                }
                return marketData.HandleAsync(context, "internal");
            case ListenerKind.Http:
                if (AcmeChallengeResponder.IsHttp01Path(context.Request.Path.Value ?? "")) return acme.AnswerHttp01Async(context);
                return RedirectToHttps(context);
            case ListenerKind.Admin:
                return admin.HandleAsync(context);
            case ListenerKind.Https:
                context.Response.Headers.StrictTransportSecurity = HstsValue;
                var path = context.Request.Path.Value ?? "/";
                if (path == "/ws" || path.StartsWith("/ws/", StringComparison.Ordinal))
                {
                    if (!origins.AdmitsMarketData(context)) return Task.CompletedTask;
                    return marketData.HandleAsync(context, "https");
                }
                if (!AcmeChallengeResponder.IsHttp01Path(path))
                {
                    // Without Proxy:Upstream a page says what to set, not an empty 404.
                    return proxy.IsEnabled ? proxy.HandleAsync(context) : FlaskAppNotConfigured.WriteAsync(context, configuration.FileToEdit);
                }
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
        }
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
    }
}
