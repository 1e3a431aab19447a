using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.OpenAlgoProxy;

public sealed class SubscriptionUnionTests
{
    private static readonly SymbolKey Infy = new("NSE", "INFY");

    [Fact]
    public void The_wanted_mode_is_the_highest_any_client_holds_and_falls_back_as_holders_leave()
    {
        var union = new SubscriptionUnion();
        union.Add(Infy, 1);
        union.Add(Infy, 3, new PyInt(20));
        union.Add(Infy, 3);
        union.Add(Infy, 2);
        Assert.Equal(3, union.Wanted(Infy));
        Assert.Equal("20", union.DepthFor(Infy).Repr()); // a later Depth holder without a depth keeps the asked one

        union.Remove(Infy, 3);
        Assert.Equal(3, union.Wanted(Infy)); // one Depth holder left
        union.Remove(Infy, 3);
        Assert.Equal(2, union.Wanted(Infy));
        union.Remove(Infy, 2);
        Assert.Equal(1, union.Wanted(Infy));
        union.Remove(Infy, 1);
        union.Remove(Infy, 1); // more releases than holds change nothing
        Assert.Equal(0, union.Wanted(Infy));
        Assert.False(union.AnyWanted);
        Assert.Equal(0, union.Count);
    }

    [Fact]
    public void Differences_are_what_the_upstream_must_be_told_and_a_new_connection_starts_from_nothing()
    {
        var union = new SubscriptionUnion();
        var tcs = new SymbolKey("NSE", "TCS");
        union.Add(Infy, 2);
        union.SetUpstream(Infy, 2);
        union.Add(tcs, 1);
        Assert.Equal([(tcs, 1, 0)], union.Differences());

        union.SetUpstream(tcs, 1);
        union.Remove(tcs, 1);
        Assert.Equal([(tcs, 0, 1)], union.Differences()); // still held upstream until told
        union.SetUpstream(tcs, 0);
        Assert.Empty(union.Differences());
        Assert.Equal(1, union.Count);

        union.ForgetUpstream();
        Assert.Equal([(Infy, 2, 0)], union.Differences());
    }
}
