using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.Tests.MarketData.WebSockets;

public sealed class WebSocketHandshakeTests
{
    [Fact]
    public void Accept_key_matches_rfc6455_example()
    {
        // RFC 6455 §1.3
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Theory]
    [InlineData(5, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    public void Frame_headers_use_the_shortest_length_form(int payload, int header)
    {
        var frame = WebSocketFrames.Text(new byte[payload]);
        Assert.Equal(header + payload, frame.Length);
        Assert.Equal(0x81, frame[0]);
    }
}
