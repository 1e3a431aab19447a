using Microsoft.Net.Http.Headers;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// install.sh's <c>add_header</c> lines, on proxied responses, each only when the Flask app did
/// not send its own (nginx would have sent both, and browsers then apply the strictest or
/// neither). HSTS is set for every HTTPS response by the edge router. <c>X-XSS-Protection</c>
/// is left out on purpose: browsers removed the XSS auditor and OWASP advises against the header.
/// <c>Referrer-Policy</c> comes from install-docker.sh's set.
/// </summary>
internal static class SecurityHeaders
{
    public const string ContentTypeOptions = "nosniff";
    public const string FrameOptions = "DENY";
    public const string ReferrerPolicy = "strict-origin-when-cross-origin";

    public static void Apply(HttpResponse response)
    {
        if (response.StatusCode == StatusCodes.Status101SwitchingProtocols) return;
        var headers = response.Headers;
        // nosniff matters most on scripts and styles, so it goes on every proxied response.
        if (!headers.ContainsKey(HeaderNames.XContentTypeOptions)) headers.XContentTypeOptions = ContentTypeOptions;
        if (!IsHtml(response.ContentType)) return;
        if (!headers.ContainsKey(HeaderNames.XFrameOptions)) headers.XFrameOptions = FrameOptions;
        if (!headers.ContainsKey("Referrer-Policy")) headers["Referrer-Policy"] = ReferrerPolicy;
    }

    private static bool IsHtml(string? contentType) =>
        contentType is not null
        && (contentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/xhtml+xml", StringComparison.OrdinalIgnoreCase));
}
