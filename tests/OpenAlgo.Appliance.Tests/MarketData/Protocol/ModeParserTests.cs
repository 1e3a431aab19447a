using System.Text;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.Tests.MarketData.Protocol;

public sealed class ModeParserTests
{
    [Theory]
    [InlineData("1", 1)]
    [InlineData("2", 2)]
    [InlineData("3", 3)]
    [InlineData("\"ltp\"", 1)]
    [InlineData("\" Quote \"", 2)]
    [InlineData("\"DEPTH\"", 3)]
    public void Accepts_ints_and_labels(string json, int expected)
    {
        Assert.Equal(expected, ModeParser.Parse(PyJsonReader.Parse(Encoding.UTF8.GetBytes(json)), out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("5", "Invalid mode 5; expected 1 (LTP), 2 (Quote), or 3 (Depth)")]
    [InlineData("-1", "Invalid mode -1; expected 1 (LTP), 2 (Quote), or 3 (Depth)")]
    [InlineData("\"foo\"", "Invalid mode 'foo'; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)")]
    [InlineData("\"1\"", "Invalid mode '1'; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)")]
    [InlineData("\"it's\"", "Invalid mode \"it's\"; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)")]
    [InlineData("true", "Mode must be int or str, got bool (True)")]
    [InlineData("false", "Mode must be int or str, got bool (False)")]
    [InlineData("1.0", "Mode must be int or str, got float")]
    [InlineData("null", "Mode must be int or str, got NoneType")]
    [InlineData("[1]", "Mode must be int or str, got list")]
    [InlineData("{}", "Mode must be int or str, got dict")]
    public void Refuses_with_openalgos_exact_text(string json, string expected)
    {
        Assert.Null(ModeParser.Parse(PyJsonReader.Parse(Encoding.UTF8.GetBytes(json)), out var error));
        Assert.Equal(expected, error);
    }
}
