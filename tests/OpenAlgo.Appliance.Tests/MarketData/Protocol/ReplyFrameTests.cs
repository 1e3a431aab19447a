using System.Text;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.Tests.MarketData.Protocol;

public sealed class ReplyFrameTests
{
    private static PyDict SubscribeAck(int entries)
    {
        var list = new PyList();
        for (int i = 0; i < entries; i++)
        {
            list.Items.Add(new PyDict().Set("symbol", "S" + i).Set("exchange", "NSE").Set("status", "success").Set("mode", "LTP").Set("depth", 5).Set("broker", "fakebroker"));
        }
        return new PyDict().Set("type", "subscribe").Set("status", "success").Set("subscriptions", list).Set("message", "Subscription processing complete").Set("broker", "fakebroker");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3000)]
    public void Is_the_json_dumps_text_in_one_text_frame(int entries)
    {
        var reply = SubscribeAck(entries);
        Assert.Equal(WebSocketFrames.Text(PyJsonWriter.Serialize(reply)), ReplyFrame.Text(reply));
    }

    [Fact]
    public void Allocates_the_frame_and_little_else()
    {
        var reply = SubscribeAck(3000);
        byte[] frame = ReplyFrame.Text(reply); // warm the pool
        long before = GC.GetAllocatedBytesForCurrentThread();
        frame = ReplyFrame.Text(reply);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Growing an array and copying it into a frame allocated about four times the frame (1.3 MB here).
        Assert.True(allocated < frame.Length + 8 * 1024, $"{allocated} bytes allocated for a {frame.Length}-byte frame");
        Assert.StartsWith("{\"type\": \"subscribe\"", Encoding.ASCII.GetString(frame, 10, 20));
    }
}
