using System.Net.WebSockets;
using OpenAlgo.Appliance.MarketData.WebSockets;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.WebSockets;

/// <summary>Upgraded WebSockets on both doors write into their connection's own output, not through the upgrade stream.</summary>
public sealed class ConnectionOutputTests
{
    [Fact]
    public async Task Wss_and_the_internal_listener_write_into_the_connections_output_and_still_close_cleanly()
    {
        await using var appliance = await TestAppliance.StartAsync();
        long before = ConnectionOutputFeature.Taken;
        var wss = await WsTestClient.ConnectAsync(appliance.PublicUri);
        var ws = await WsTestClient.ConnectAsync(appliance.InternalUri);
        {
            await wss.AuthenticateAsync();
            await ws.AuthenticateAsync();
            Assert.True(ConnectionOutputFeature.Taken >= before + 2, $"{ConnectionOutputFeature.Taken - before} of 2 WebSockets took their connection's output");
            using var bus = new BusPublisher(appliance.ZmqEndpoint);
            await wss.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 1}");
            Assert.Contains("\"ltp\": 800.0", await bus.PublishUntilReceivedAsync(wss, "NSE_SBIN_LTP", "{\"ltp\": 800.0}"));
            // The server's answer to our close frame leaves through the same output.
            await wss.DisposeAsync();
            await ws.DisposeAsync();
            Assert.Equal(WebSocketState.Closed, wss.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, wss.CloseStatus);
            Assert.Equal(WebSocketState.Closed, ws.State);
        }
    }
}
