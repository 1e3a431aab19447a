namespace OpenAlgo.Appliance.Security;

/// <summary>
/// Applies <see cref="OriginPolicy"/> to WebSocket handshakes on the public listener: a foreign
/// Origin gets 403 before anything is upgraded or forwarded, with a log line naming it. Plain
/// requests pass untouched (browsers enforce CORS on those themselves).
/// </summary>
internal sealed partial class WebSocketOriginGuard(OriginPolicy policy, ILogger<WebSocketOriginGuard> logger)
{
    /// <summary>
    /// <c>/ws</c> on the public listener: any Origin unless <c>Security:CheckWsOrigin</c> is on
    /// (the API key inside the protocol is the credential). False when refused (403 set).
    /// </summary>
    public bool AdmitsMarketData(HttpContext context) =>
        !policy.ChecksWs || Admits(context, allowPlainHttpScheme: true);

    /// <summary>False when the request was refused (the 403 is set; the caller stops).</summary>
    public bool Admits(HttpContext context, bool allowPlainHttpScheme)
    {
        var request = context.Request;
        if (!WebSocketUpgrade.IsRequested(request)) return true;
        var origins = request.Headers.Origin;
        if (policy.IsAllowed(origins, request.Host, allowPlainHttpScheme)) return true;

        Log.Refused(logger, origins.ToString(), request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString() ?? "?");
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(2100, LogLevel.Warning, "Refused a WebSocket handshake on {Path} from {Remote}: Origin '{Origin}' is not allowed (Tls:Domains, Security:AllowedOrigins)")]
        public static partial void Refused(ILogger logger, string origin, string path, string remote);
    }
}
