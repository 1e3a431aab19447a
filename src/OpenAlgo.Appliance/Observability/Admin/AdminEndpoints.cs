using System.Net;
using Microsoft.AspNetCore.Http.Features;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Observability.Admin;

/// <summary>
/// The admin listener (<c>Listen:Admin</c>): <c>/</c> the live status page, <c>/status.json</c> (what
/// <c>openalgo-appliance status</c> prints), <c>/events</c> (the page's once-a-second server-sent
/// events), <c>/healthz</c>. <c>/metrics</c> is answered before this by OpenTelemetry's Prometheus
/// exporter, on this listener only (<see cref="AdminApplicationBuilderExtensions"/>). Loopback by
/// default: requests must also name a loopback host, so a web page cannot reach it by rebinding a
/// domain name to 127.0.0.1.
/// </summary>
internal sealed partial class AdminEndpoints(StatusReport report, TelemetrySampler sampler, ApplianceOptions options, IHostApplicationLifetime lifetime, ILogger<AdminEndpoints> logger)
{
    private static readonly byte[] Page = LoadPage();

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        if (!options.Listen.AdminAllowRemote && !IsLoopbackHost(context.Request.Host.Host))
        {
            Log.ForeignHost(logger, context.Request.Host.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "unix socket");
            response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            return;
        }
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return;
        }
        switch (context.Request.Path.Value)
        {
            case "/" or "/index.html":
                response.ContentType = "text/html; charset=utf-8";
                // Everything the page needs is inline: no request leaves for another origin.
                response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
                await response.Body.WriteAsync(Page, context.RequestAborted);
                return;
            case "/status.json":
                response.ContentType = "application/json";
                await response.Body.WriteAsync(report.Json(history: context.Request.Query.ContainsKey("history")), context.RequestAborted);
                return;
            case "/healthz":
                var problems = report.Unhealthy();
                response.ContentType = "text/plain; charset=utf-8";
                response.StatusCode = problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
                await response.WriteAsync(problems.Count == 0 ? "ok\n" : string.Join('\n', problems) + "\n", context.RequestAborted);
                return;
            case "/events":
                await StreamAsync(context);
                return;
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
        }
    }

    /// <summary>Server-sent events: the status document after every sample (once a second) until the page goes away or the service stops.</summary>
    private async Task StreamAsync(HttpContext context)
    {
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            await response.WriteAsync("retry: 2000\n\n", stop.Token);
            await response.Body.FlushAsync(stop.Token);
            while (!stop.IsCancellationRequested)
            {
                await sampler.NextAsync(stop.Token);
                await response.Body.WriteAsync("event: status\ndata: "u8.ToArray(), stop.Token);
                await response.Body.WriteAsync(report.Json(history: false), stop.Token);
                await response.Body.WriteAsync("\n\n"u8.ToArray(), stop.Token);
                await response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    internal static bool IsLoopbackHost(string host)
    {
        if (host.Length == 0 || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    private static byte[] LoadPage()
    {
        using var stream = typeof(AdminEndpoints).Assembly.GetManifestResourceStream("admin/status.html")
            ?? throw new InvalidOperationException("the status page is not embedded in this build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static partial class Log
    {
        [LoggerMessage(1900, LogLevel.Warning, "Admin listener: refused a request for host {Host} from {Remote} (only localhost names are answered; Listen:AdminAllowRemote=true lifts this)")]
        public static partial void ForeignHost(ILogger logger, string host, string remote);
    }
}
