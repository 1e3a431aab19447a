using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// What changes on the way through: nginx's forwarded headers on the request, the security
/// headers on the response, and on <c>/socket.io/</c> the app's CORS grant only for the admitted
/// Origin. Everything else is YARP's copy, which already drops hop-by-hop headers — so
/// <c>Connection</c>/<c>Upgrade</c> reach gunicorn only on real upgrade requests (OpenAlgo #1807:
/// a forced <c>Connection: upgrade</c> on plain requests broke keep-alive).
/// </summary>
internal sealed class FlaskTransformer : HttpTransformer
{
    public static readonly FlaskTransformer Instance = new();

    private FlaskTransformer()
    {
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        ForwardedHeaders.Apply(httpContext, proxyRequest.Headers);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        // The edge router put our HSTS on the response already; YARP appends the app's headers to
        // existing ones, so an app that sends its own HSTS would otherwise get two.
        if (proxyResponse is not null && proxyResponse.Headers.Contains(HeaderNames.StrictTransportSecurity))
        {
            httpContext.Response.Headers.Remove(HeaderNames.StrictTransportSecurity);
        }
        bool proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        // nginx's proxy_hide_header default: the app server's name and version (Server:
        // gunicorn/20.1.0) stay inside, as the appliance sends no Server header of its own.
        httpContext.Response.Headers.Remove(HeaderNames.Server);
        if (proxyResponse is not null)
        {
            SecurityHeaders.Apply(httpContext.Response);
            if (SocketIoGate.IsSocketIoPath(httpContext.Request.Path)) SocketIoCors.Restrict(httpContext);
        }
        return proceed;
    }
}
