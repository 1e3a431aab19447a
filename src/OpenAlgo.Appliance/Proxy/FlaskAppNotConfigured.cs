using System.Net;
using Microsoft.Net.Http.Headers;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// What the appliance says when domains are served but <c>Proxy:Upstream</c> is empty: then
/// <c>https://DOMAIN/</c> has no OpenAlgo web app behind it, which looked like a broken install (an
/// empty 404 while <c>check</c> said OK). <c>check</c> and <c>run</c> warn; the HTTPS pages say what to set.
/// </summary>
internal static class FlaskAppNotConfigured
{
    /// <summary>The warning for <c>check</c> and the log, or null when there is nothing to warn about.</summary>
    public static string? Warning(SiteOptions site, string root = "/")
    {
        if (site.Tls.Domains.Count == 0 || !string.IsNullOrWhiteSpace(site.Proxy.Upstream)) return null;
        string domain = site.Tls.Domains[0];
        var found = FlaskAppDiscovery.Find(root, domain);
        string fix = found.Count > 0
            ? $"set it to {found[0].Upstream} ({found[0].Why}, found on this machine)"
            : $"set it to OpenAlgo's gunicorn socket (install.sh: unix:{FlaskAppDiscovery.InstallShSocket}) or {FlaskAppDiscovery.DefaultTcp}";
        return $"Appliance:{site.KeyPrefix}Proxy:Upstream: is empty, so https://{domain}/ shows no OpenAlgo web app (only market data on /ws). Fix: {fix}.";
    }

    /// <summary>
    /// The answer to any HTTPS request the proxy would have forwarded: 404 (there is nothing there),
    /// with a page naming the key, the file to set it in and the docs instead of an empty body.
    /// </summary>
    public static Task WriteAsync(HttpContext context, string configurationFile, string keyPrefix = "")
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status404NotFound;
        response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method)) return Task.CompletedTask;
        bool html = context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
        if (!html)
        {
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync(
                "404 Not Found\n\nNo OpenAlgo web app is configured behind this server. " +
                $"Set Appliance:{keyPrefix}Proxy:Upstream in {configurationFile} to OpenAlgo's gunicorn socket (unix:{FlaskAppDiscovery.InstallShSocket}) " +
                $"or {FlaskAppDiscovery.DefaultTcp}, then restart the service. Docs: man openalgo-appliance; {ConfigurationReference.Where}.\n");
        }
        response.ContentType = "text/html; charset=utf-8";
        response.Headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'";
        string file = WebUtility.HtmlEncode(configurationFile);
        string docs = WebUtility.HtmlEncode(ConfigurationReference.Where);
        string example = WebUtility.HtmlEncode($"{{\"Appliance\": {{\"Proxy\": {{\"Upstream\": \"unix:{FlaskAppDiscovery.InstallShSocket}\"}}}}}}");
        return response.WriteAsync($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>OpenAlgo Appliance: no OpenAlgo web app configured</title>
            <style>body{font-family:system-ui,sans-serif;max-width:46em;margin:3em auto;padding:0 1em;line-height:1.5}code,pre{background:#f3f3f3;padding:.1em .3em}pre{padding:.8em}</style></head>
            <body>
            <h1>No OpenAlgo web app is configured here</h1>
            <p>OpenAlgo Appliance is running and serves market data on <code>/ws</code>, but it has no
            OpenAlgo web app to show on this page: <code>Proxy:Upstream</code> is empty.</p>
            <p>Set it in <code>{{file}}</code> to where OpenAlgo's gunicorn listens:</p>
            <pre>{{example}}</pre>
            <p>(OpenAlgo's install.sh socket; <code>{{FlaskAppDiscovery.DefaultTcp}}</code> for <code>python app.py</code> or Docker), then
            <code>openalgo-appliance check</code> and <code>sudo systemctl restart openalgo-appliance</code>.</p>
            <p>Docs: <code>man openalgo-appliance</code>, and every key in <code>{{docs}}</code> on this server.</p>
            </body></html>

            """);
    }
}
