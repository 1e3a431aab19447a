using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>An upgraded connection and, when agreed, its permessage-deflate parameters.</summary>
internal readonly record struct AcceptedWebSocket(Stream Stream, DeflateParameters? Deflate);

/// <summary>The server side of the RFC 6455 §4.2 opening handshake on an HTTP/1.1 request.</summary>
internal static class WebSocketHandshake
{
    private static readonly byte[] AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    // What Python's websockets answers to a plain HTTP request, so curl users see the same hint.
    public const string NotWebSocketBody =
        "Failed to open a WebSocket connection: missing Connection header.\n\n" +
        "You cannot access a WebSocket server directly with a browser. You need a WebSocket client.\n";

    public static bool IsUpgradeRequest(HttpContext context)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        // RFC 6455 §4.1: GET and at least HTTP/1.1 (Kestrel would upgrade an HTTP/1.0 request too).
        return upgrade is { IsUpgradableRequest: true }
            && HttpMethods.IsGet(context.Request.Method)
            && HttpProtocol.IsHttp11(context.Request.Protocol)
            && context.Request.Headers.Upgrade.ToString().Equals("websocket", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Validates the handshake and, when <paramref name="offerDeflate"/>, negotiates permessage-deflate;
    /// on failure writes the HTTP error and returns null.
    /// </summary>
    public static async Task<AcceptedWebSocket?> AcceptAsync(HttpContext context, bool offerDeflate = false)
    {
        if (!IsUpgradeRequest(context))
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            context.Response.Headers.Upgrade = "websocket";
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(NotWebSocketBody);
            return null;
        }

        var headers = context.Request.Headers;
        string key = headers["Sec-WebSocket-Key"].ToString();
        if (headers["Sec-WebSocket-Version"].ToString() != "13" || !IsValidKey(key))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.Headers["Sec-WebSocket-Version"] = "13";
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("Failed to open a WebSocket connection: invalid Sec-WebSocket-Key or Sec-WebSocket-Version.\n");
            return null;
        }

        DeflateParameters? deflate = null;
        if (offerDeflate)
        {
            var negotiation = PerMessageDeflateNegotiator.Negotiate(headers[PerMessageDeflateNegotiator.HeaderName]);
            if (negotiation.Outcome == DeflateOfferOutcome.Malformed)
            {
                // Python websockets fails the handshake the same way on a header it cannot parse.
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"Failed to open a WebSocket connection: {negotiation.Error}.\n");
                return null;
            }
            if (negotiation.Outcome == DeflateOfferOutcome.Accepted)
            {
                context.Response.Headers[PerMessageDeflateNegotiator.HeaderName] = negotiation.ResponseHeader;
                deflate = negotiation.Parameters;
            }
        }

        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers["Sec-WebSocket-Accept"] = ComputeAccept(key);
        var stream = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync();
        return new AcceptedWebSocket(stream, deflate);
    }

    public static string ComputeAccept(string key)
    {
        Span<byte> input = stackalloc byte[128];
        int length = Encoding.ASCII.GetBytes(key, input);
        AcceptGuid.CopyTo(input[length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..(length + AcceptGuid.Length)], hash);
        return Convert.ToBase64String(hash);
    }

    private static bool IsValidKey(string key)
    {
        if (key.Length != 24) return false;
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out int written) && written == 16;
    }
}
