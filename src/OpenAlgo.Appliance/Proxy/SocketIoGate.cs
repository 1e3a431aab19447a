using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// Who may reach Flask-SocketIO (<c>/socket.io/</c>): every request that carries an Origin only
/// from an allowed one (polling, preflights and upgrades), and — with
/// <c>Proxy:RequireSessionForSocketIo</c> — only callers logged in to OpenAlgo (401 on
/// long-polling, 403 before an upgrade), each refusal logged. Marks what it admitted so the
/// response keeps the app's CORS grant only for that origin (<see cref="SocketIoCors"/>).
/// </summary>
internal sealed partial class SocketIoGate(OriginGuard origins, SessionCheck sessions, SiteOptions options, ILogger<SocketIoGate> logger)
{
    private const string Prefix = "/socket.io";

    /// <summary>
    /// <c>/socket.io</c> and everything under it, ignoring case (engine.io itself is
    /// case-sensitive: stricter here costs nothing). Kestrel leaves <c>%2F</c> encoded in the path
    /// and gunicorn/eventlet decode it, so <c>/socket.io%2F…</c> is engine.io's if forwarded
    /// intact. YARP happens to re-escape it today; the gate does not rely on that and treats it
    /// as <c>/socket.io/</c>.
    /// </summary>
    public static bool IsSocketIoPath(PathString path)
    {
        string value = path.Value ?? "";
        if (value.Contains('%')) value = value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        return value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            && (value.Length == Prefix.Length || value[Prefix.Length] == '/');
    }

    /// <summary>False when the request was answered here (refused); the caller stops.</summary>
    public async ValueTask<bool> AdmitAsync(HttpContext context, bool upgrade)
    {
        // Socket.IO rides on cookies: only https:// pages of our own domains (or listed origins).
        if (!origins.AdmitsSocketIo(context)) return false;
        SocketIoCors.MarkAdmitted(context);
        if (!options.Proxy.RequireSessionForSocketIo) return true;
        // A CORS preflight never carries cookies (Fetch standard), so it could never pass the
        // session check; engine.io answers it with headers alone, and the request it clears
        // comes back with the cookies and is checked then.
        if (SocketIoCors.IsPreflight(context.Request)) return true;

        switch (await sessions.CheckAsync(context).ConfigureAwait(false))
        {
            case SessionState.Authenticated:
                return true;
            case SessionState.Anonymous:
                int status = upgrade ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
                Log.NotLoggedIn(logger, status, context.Request.Method, context.Request.Path.Value ?? "/", ForwardedHeaders.ClientAddress(context));
                await ProxyResponses.WriteAsync(context, status, ProxyResponses.LoginRequired).ConfigureAwait(false);
                return false;
            default:
                await ProxyResponses.WriteAsync(context, StatusCodes.Status502BadGateway, ProxyResponses.BadGateway).ConfigureAwait(false);
                return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2020, LogLevel.Warning, "Refused Socket.IO ({Status}) {Method} {Path} from {Remote}: no logged-in OpenAlgo session (Proxy:RequireSessionForSocketIo)")]
        public static partial void NotLoggedIn(ILogger logger, int status, string method, string path, string remote);
    }
}
