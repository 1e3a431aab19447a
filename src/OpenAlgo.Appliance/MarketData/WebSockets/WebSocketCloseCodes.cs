namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>Close codes the hub sends (RFC 6455 §7.4.1 plus OpenAlgo's private 4401).</summary>
internal static class WebSocketCloseCodes
{
    public const int Normal = 1000;
    public const int GoingAway = 1001;
    public const int ProtocolError = 1002;
    public const int InvalidPayload = 1007;
    public const int PolicyViolation = 1008;
    public const int MessageTooBig = 1009;
    public const int InternalError = 1011;
    public const int TryAgainLater = 1013;

    /// <summary>OpenAlgo's proxy closes sockets still unauthenticated after WS_AUTH_GRACE_SECONDS with 4401 "auth timeout".</summary>
    public const int AuthTimeout = 4401;
}
