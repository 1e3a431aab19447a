using System.Text;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.OpenAlgoProxy;

public sealed class ProxyTickTests
{
    [Theory]
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 3, \"data\": {\"ltp\": 2950.5, \"depth\": {\"buy\": [{\"price\": 1.0}], \"sell\": []}}, \"broker\": \"zerodha\"}",
        "RELIANCE", "NSE", 3, "{\"ltp\": 2950.5, \"depth\": {\"buy\": [{\"price\": 1.0}], \"sell\": []}}")]
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"SOL_INR\", \"exchange\": \"CRYPTO\", \"mode\": 1, \"data\": {\"ltp\": 800.1, \"name\": \"\\u20b9 \\\"x\\\"\"}, \"broker\": \"b\"}",
        "SOL_INR", "CRYPTO", 1, "{\"ltp\": 800.1, \"name\": \"\\u20b9 \\\"x\\\"\"}")]
    public void A_tick_is_read_in_place_with_its_data_bytes_untouched(string message, string symbol, string exchange, int mode, string data)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        Assert.True(bytes.AsSpan().StartsWith(ProxyTick.Prefix));
        Assert.True(ProxyTick.TryRead(bytes, out string s, out string e, out int m, out Range range));
        Assert.Equal((symbol, exchange, mode), (s, e, m));
        Assert.Equal(data, Encoding.UTF8.GetString(bytes.AsSpan()[range]));
    }

    [Theory]
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {\"ltp\": NaN}, \"broker\": \"b\"}")] // Python's json.dumps can write NaN
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": 4, \"data\": {}, \"broker\": \"b\"}")]
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": 1, \"broker\": \"b\"}")]
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {}}")]
    [InlineData("{\"type\": \"market_data\", \"symbol\": \"X\"")]
    public void Anything_unusual_is_left_to_the_full_parser(string message)
    {
        Assert.False(ProxyTick.TryRead(Encoding.UTF8.GetBytes(message), out _, out _, out _, out _));
    }
}
