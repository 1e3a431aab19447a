using Microsoft.Net.Http.Headers;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// The Flask app's CORS grant on <c>/socket.io/</c> responses. Flask-SocketIO runs with
/// <c>cors_allowed_origins="*"</c> and credentials on, so it echoes any Origin back with
/// <c>Access-Control-Allow-Credentials: true</c> — a grant that lets a foreign page read the
/// user's events. The gate refuses foreign origins before they reach the app; this keeps the
/// invariant on the way out as well: the grant survives only when it names the one Origin the
/// gate admitted on this very request.
/// </summary>
internal static class SocketIoCors
{
    private static readonly object AdmittedKey = new();

    /// <summary>Called by the gate once the request's Origin (if any) passed the policy.</summary>
    public static void MarkAdmitted(HttpContext context) => context.Items[AdmittedKey] = AdmittedKey;

    /// <summary>A CORS preflight: <c>OPTIONS</c> with <c>Origin</c> and <c>Access-Control-Request-Method</c>.</summary>
    public static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method)
        && request.Headers.Origin.Count > 0
        && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod);

    /// <summary>Drops the app's <c>Access-Control-Allow-Origin</c>/<c>-Credentials</c> unless they grant exactly the admitted Origin.</summary>
    public static void Restrict(HttpContext context)
    {
        var headers = context.Response.Headers;
        if (!headers.ContainsKey(HeaderNames.AccessControlAllowOrigin) && !headers.ContainsKey(HeaderNames.AccessControlAllowCredentials)) return;

        var origin = context.Request.Headers.Origin;
        var granted = headers.AccessControlAllowOrigin;
        bool keep = context.Items.ContainsKey(AdmittedKey)
            && origin.Count == 1
            && granted.Count == 1
            && string.Equals(granted[0], origin[0], StringComparison.Ordinal);
        if (keep) return;
        headers.Remove(HeaderNames.AccessControlAllowOrigin);
        headers.Remove(HeaderNames.AccessControlAllowCredentials);
    }
}
