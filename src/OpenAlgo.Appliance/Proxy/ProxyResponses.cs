using Microsoft.Net.Http.Headers;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>The short plain-text pages the proxy answers with itself (nginx's built-in error pages).</summary>
internal static class ProxyResponses
{
    public const string BadGateway = "502 Bad Gateway\n\nOpenAlgo is not answering behind this server. Try again in a moment.\n";
    public const string GatewayTimeout = "504 Gateway Timeout\n\nOpenAlgo did not answer in time.\n";
    public const string TooLarge = "413 Request Entity Too Large\n\nThe request body is larger than this server accepts (Proxy:MaxRequestBodyBytes).\n";
    public const string LoginRequired = "Socket.IO needs a logged-in OpenAlgo session.\n";

    public static Task WriteAsync(HttpContext context, int status, string text)
    {
        var response = context.Response;
        if (response.HasStarted) return Task.CompletedTask;
        response.StatusCode = status;
        // A failed forward may have copied some of the app's headers already.
        response.Headers.Remove(HeaderNames.ContentLength);
        response.Headers.Remove(HeaderNames.ContentEncoding);
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        return response.WriteAsync(text);
    }
}
