namespace OpenAlgo.Appliance.Security;

/// <summary>Recognises a WebSocket handshake before anything answers it.</summary>
internal static class WebSocketUpgrade
{
    /// <summary>
    /// True when the request asks to become a WebSocket (<c>Upgrade: websocket</c>). Judged on the
    /// header alone, without <c>Connection: upgrade</c>: the checks that use it only ever refuse
    /// more, never less.
    /// </summary>
    public static bool IsRequested(HttpRequest request)
    {
        foreach (var value in request.Headers.Upgrade)
        {
            if (value is not null && value.Contains("websocket", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}
