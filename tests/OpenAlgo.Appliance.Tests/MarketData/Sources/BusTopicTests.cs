using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Sources;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources;

public sealed class BusTopicTests
{
    [Theory]
    [InlineData("NSE_RELIANCE_LTP", "NSE", "RELIANCE", 1)]
    [InlineData("NSE_INDEX_NIFTY_QUOTE", "NSE_INDEX", "NIFTY", 2)]
    [InlineData("BSE_INDEX_SENSEX_DEPTH", "BSE_INDEX", "SENSEX", 3)]
    [InlineData("MCX_INDEX_MCXCOMDEX_LTP", "MCX_INDEX", "MCXCOMDEX", 1)]
    [InlineData("GLOBAL_INDEX_DJI_LTP", "GLOBAL_INDEX", "DJI", 1)]
    [InlineData("NFO_NIFTY28AUG2524500CE_DEPTH", "NFO", "NIFTY28AUG2524500CE", 3)]
    [InlineData("CRYPTO_SOL_INR_LTP", "CRYPTO", "SOL_INR", 1)]
    [InlineData("NSEIX_INDEX_GIFTNIFTY_LTP", "NSEIX", "INDEX_GIFTNIFTY", 1)]
    [InlineData("NSE_RELIANCE_Quote", "NSE", "RELIANCE", 2)]
    [InlineData("NSE_RELIANCE_depth", "NSE", "RELIANCE", 3)]
    public void Parses_market_data_topics(string topic, string exchange, string symbol, int mode)
    {
        var parsed = BusTopic.Parse(topic);
        Assert.Equal(BusTopicKind.MarketData, parsed.Kind);
        Assert.Equal(new SymbolKey(exchange, symbol), parsed.Key);
        Assert.Equal(mode, parsed.Mode);
    }

    [Theory]
    [InlineData("CACHE_INVALIDATE_ALL_rajandran", "CacheInvalidate")]
    [InlineData("CACHE_INVALIDATE_AUTH_x", "CacheInvalidate")]
    [InlineData("ZERODHA_rajandran_orders", "OrderUpdate")]
    [InlineData("deltaexchange_orders", "OrderUpdate")]
    [InlineData("deltaexchange_positions", "Ignored")]
    [InlineData("deltaexchange_margins", "Ignored")]
    [InlineData("NSE_RELIANCE_FOO", "Invalid")]
    [InlineData("NSE_LTP", "Invalid")]
    [InlineData("NSE_INDEX_LTP", "Invalid")]
    [InlineData("garbage", "Invalid")]
    public void Classifies_special_and_bad_topics(string topic, string kind)
    {
        Assert.Equal(kind, BusTopic.Parse(topic).Kind.ToString());
    }
}
