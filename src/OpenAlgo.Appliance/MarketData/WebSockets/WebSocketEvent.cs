namespace OpenAlgo.Appliance.MarketData.WebSockets;

internal enum WebSocketEventKind
{
    /// <summary>A complete text message (valid UTF-8).</summary>
    Text,
    /// <summary>A complete binary message.</summary>
    Binary,
    Ping,
    Pong,
    /// <summary>The peer sent a close frame.</summary>
    Close,
    /// <summary>The peer broke the protocol; close with <see cref="WebSocketEvent.CloseCode"/>.</summary>
    Violation,
    /// <summary>The stream ended without a close frame.</summary>
    EndOfStream,
    /// <summary>A pending read was cancelled (shutdown, close timeout).</summary>
    Cancelled,
}

/// <summary>One thing read from the peer. <see cref="Payload"/> is valid until the next read.</summary>
internal readonly record struct WebSocketEvent(WebSocketEventKind Kind, ReadOnlyMemory<byte> Payload, int CloseCode = 0, string CloseReason = "")
{
    public static WebSocketEvent Violation(int code, string reason) => new(WebSocketEventKind.Violation, default, code, reason);
}
