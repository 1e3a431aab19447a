namespace OpenAlgo.Appliance.Security;

/// <summary>
/// Applies <see cref="OriginPolicy"/> to requests on the public listener: a foreign Origin gets
/// 403 before anything is upgraded, answered or forwarded, with a log line naming it.
/// </summary>
internal sealed partial class OriginGuard(OriginPolicy policy, ILogger<OriginGuard> logger)
{
    /// <summary>
    /// <c>/ws</c>: any Origin unless <c>Security:CheckWsOrigin</c> is on (the API key inside the
    /// protocol is the credential); then WebSocket handshakes only. False when refused (403 set).
    /// </summary>
    public bool AdmitsMarketData(HttpContext context) =>
        !policy.ChecksWs || !WebSocketUpgrade.IsRequested(context.Request) || Admits(context, allowPlainHttpScheme: true);

    /// <summary>
    /// <c>/socket.io/</c>: every request that carries an Origin — long-polling <c>GET</c> and
    /// <c>POST</c>, CORS preflights and WebSocket handshakes alike. Checking only upgrades let a
    /// same-site page (<c>https://evil.app.test</c> next to <c>https://app.test</c>) read the
    /// user's events over polling: Chrome sends the <c>SameSite=Lax</c> session cookie on a
    /// same-site request, and Flask-SocketIO answers CORS for any origin with credentials.
    /// False when refused (403 set).
    /// </summary>
    public bool AdmitsSocketIo(HttpContext context) => Admits(context, allowPlainHttpScheme: false);

    private bool Admits(HttpContext context, bool allowPlainHttpScheme)
    {
        var request = context.Request;
        var origins = request.Headers.Origin;
        if (policy.IsAllowed(origins, request.Host, allowPlainHttpScheme)) return true;

        Log.Refused(logger, request.Method, request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString() ?? "?", origins.ToString());
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(2100, LogLevel.Warning, "Refused {Method} {Path} from {Remote}: Origin '{Origin}' is not allowed (Tls:Domains, Security:AllowedOrigins)")]
        public static partial void Refused(ILogger logger, string method, string path, string remote, string origin);
    }
}
