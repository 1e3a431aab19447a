using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Tests.MarketData.Hub;

public sealed class ModeTagsTests
{
    [Theory]
    // modes held (bits: LTP=1, Quote=2, Depth=4), tick mode, expected tag (0 = not delivered)
    [InlineData(0b101, 1, 1)] // spec §5.1: subscribed at 1 and 3, LTP tick → mode 1
    [InlineData(0b101, 2, 1)] //   QUOTE tick → mode 1
    [InlineData(0b101, 3, 3)] //   DEPTH tick → mode 3
    [InlineData(0b010, 1, 0)] // Quote-only client gets no LTP tick
    [InlineData(0b010, 3, 2)]
    [InlineData(0b001, 3, 1)]
    [InlineData(0b111, 2, 2)]
    [InlineData(0b100, 2, 0)]
    [InlineData(0b000, 3, 0)]
    public void Tags_with_the_highest_held_mode_not_above_the_tick(int modes, int tick, int expected)
    {
        Assert.Equal(expected, ModeTags.TagFor((byte)modes, tick));
    }
}
