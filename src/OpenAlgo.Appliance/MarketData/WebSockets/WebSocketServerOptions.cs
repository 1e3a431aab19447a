namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>What the WebSocket server offers on both market-data doors.</summary>
/// <param name="PerMessageDeflate">Negotiate RFC 7692 permessage-deflate with clients that offer it (<c>MarketData:PerMessageDeflate</c>).</param>
internal sealed record WebSocketServerOptions(bool PerMessageDeflate);
