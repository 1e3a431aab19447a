using System.Net;
using Microsoft.AspNetCore.Http.Features;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Security;
using Yarp.ReverseProxy.Forwarder;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// nginx's <c>location /</c> and <c>location /socket.io/</c>: forwards one public HTTPS request
/// to the Flask app with YARP's <see cref="IHttpForwarder"/> — plain requests, long-polling and
/// WebSocket upgrades alike, responses streamed as they come (nginx's <c>proxy_buffering off</c>).
/// Failures the app causes answer with a short page and a log line; nothing here outlives a
/// request, so a restarted gunicorn is simply used by the next one.
/// </summary>
internal sealed partial class FlaskProxy
{
    private readonly IHttpForwarder _forwarder;
    private readonly FlaskClient _flask;
    private readonly SocketIoGate _socketIo;
    private readonly ILogger<FlaskProxy> _logger;
    private readonly long _maxBodyBytes;
    private readonly ForwarderRequestConfig _plain;
    private readonly ForwarderRequestConfig _upgraded;

    public FlaskProxy(IHttpForwarder forwarder, FlaskClient flask, SocketIoGate socketIo, SiteOptions options, ILogger<FlaskProxy> logger)
    {
        _forwarder = forwarder;
        _flask = flask;
        _socketIo = socketIo;
        _logger = logger;
        _maxBodyBytes = options.Proxy.MaxRequestBodyBytes;
        // gunicorn speaks HTTP/1.1 only. ActivityTimeout is YARP's idle limit: reset by every
        // read or write, so it bounds silence, not duration (nginx's proxy_read_timeout).
        _plain = new ForwarderRequestConfig
        {
            ActivityTimeout = TimeSpan.FromSeconds(options.Proxy.ReadTimeoutSeconds),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        _upgraded = _plain with { ActivityTimeout = TimeSpan.FromSeconds(options.Proxy.UpgradeIdleTimeoutSeconds) };
    }

    /// <summary>False when <c>Proxy:Upstream</c> is empty: the edge answers 404 itself.</summary>
    public bool IsEnabled => _flask.IsEnabled;

    public async Task HandleAsync(HttpContext context)
    {
        if (!_flask.IsEnabled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        bool upgrade = WebSocketUpgrade.IsRequested(context.Request);
        if (!upgrade && !await AdmitBodyAsync(context).ConfigureAwait(false)) return;
        if (SocketIoGate.IsSocketIoPath(context.Request.Path) && !await _socketIo.AdmitAsync(context, upgrade).ConfigureAwait(false)) return;

        var error = await _forwarder.SendAsync(context, _flask.Address.DestinationPrefix, _flask.Invoker, upgrade ? _upgraded : _plain, FlaskTransformer.Instance).ConfigureAwait(false);
        if (error != ForwarderError.None) await ReportAsync(context, error).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies <c>Proxy:MaxRequestBodyBytes</c>. A declared length over it is refused before the
    /// app sees anything; a chunked body is cut by Kestrel when it crosses the limit (YARP then
    /// reports the 413).
    /// </summary>
    private async ValueTask<bool> AdmitBodyAsync(HttpContext context)
    {
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (limit is { IsReadOnly: false }) limit.MaxRequestBodySize = _maxBodyBytes;
        if (context.Request.ContentLength is not { } length || length <= _maxBodyBytes) return true;

        Log.TooLarge(_logger, context.Request.Method, context.Request.Path.Value ?? "/", length.ToString(System.Globalization.CultureInfo.InvariantCulture), _maxBodyBytes);
        await ProxyResponses.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ProxyResponses.TooLarge).ConfigureAwait(false);
        return false;
    }

    private Task ReportAsync(HttpContext context, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        string method = context.Request.Method;
        string path = context.Request.Path.Value ?? "/";
        switch (error)
        {
            case ForwarderError.RequestBodyClient when context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge:
                Log.TooLarge(_logger, method, path, "chunked", _maxBodyBytes);
                return ProxyResponses.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ProxyResponses.TooLarge);

            // The client went away or broke its side: nothing to answer, nothing wrong with the app.
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
                or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
                or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient:
                Log.ClientSide(_logger, method, path, error, exception?.Message ?? "");
                return Task.CompletedTask;

            case ForwarderError.UpgradeActivityTimeout:
                Log.UpgradeIdle(_logger, path);
                return Task.CompletedTask;

            default:
                Log.FlaskFailed(_logger, _flask.Address!.ToString(), method, path, error, exception?.GetBaseException().Message ?? "");
                bool timedOut = context.Response.StatusCode == StatusCodes.Status504GatewayTimeout;
                return ProxyResponses.WriteAsync(context,
                    timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                    timedOut ? ProxyResponses.GatewayTimeout : ProxyResponses.BadGateway);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2000, LogLevel.Warning, "Flask app {FlaskApp} failed {Method} {Path}: {Error} {Message}")]
        public static partial void FlaskFailed(ILogger logger, string flaskApp, string method, string path, ForwarderError error, string message);

        [LoggerMessage(2001, LogLevel.Warning, "Refused {Method} {Path} with 413: body of {Length} bytes is over Proxy:MaxRequestBodyBytes ({Limit})")]
        public static partial void TooLarge(ILogger logger, string method, string path, string length, long limit);

        [LoggerMessage(2002, LogLevel.Debug, "Client side ended {Method} {Path}: {Error} {Message}")]
        public static partial void ClientSide(ILogger logger, string method, string path, ForwarderError error, string message);

        [LoggerMessage(2003, LogLevel.Information, "Closed an upgraded connection on {Path}: idle longer than Proxy:UpgradeIdleTimeoutSeconds")]
        public static partial void UpgradeIdle(ILogger logger, string path);
    }
}
