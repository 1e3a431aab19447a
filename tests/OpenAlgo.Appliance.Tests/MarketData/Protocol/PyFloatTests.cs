using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Protocol;

public sealed class PyFloatTests
{
    [Theory]
    [InlineData(1418.4, "1418.4")]
    [InlineData(1400.0, "1400.0")]
    [InlineData(24500.15, "24500.15")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(1e+16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.1, "0.1")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(123456789.123, "123456789.123")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(12345678901234567.0, "1.2345678901234568e+16")]
    public void Formats_like_python_repr(double value, string expected)
    {
        Assert.Equal(expected, PyFloat.ToJsonString(value));
    }

    [Fact]
    public void Non_finite_values_use_json_dumps_literals()
    {
        Assert.Equal("NaN", PyFloat.ToJsonString(double.NaN));
        Assert.Equal("Infinity", PyFloat.ToJsonString(double.PositiveInfinity));
        Assert.Equal("-Infinity", PyFloat.ToJsonString(double.NegativeInfinity));
        Assert.Equal("nan", PyFloat.ToReprString(double.NaN));
        Assert.Equal("-inf", PyFloat.ToReprString(double.NegativeInfinity));
    }

    [Fact]
    public void Agrees_with_cpython_on_ten_thousand_random_doubles()
    {
        var random = new Random(1234);
        var values = new List<double>();
        for (int i = 0; i < 10_000; i++)
        {
            values.Add((i % 4) switch
            {
                0 => Math.Round(random.NextDouble() * 50000, 2),
                1 => BitConverter.Int64BitsToDouble(random.NextInt64() & 0x7FEF_FFFF_FFFF_FFFF),
                2 => random.NextDouble() * Math.Pow(10, random.Next(-30, 30)),
                _ => -Math.Round(random.NextDouble() * 100, random.Next(0, 6)),
            });
        }
        // Hand CPython the exact bits so both sides format the same double.
        string input = string.Join('\n', values.Select(v => BitConverter.DoubleToInt64Bits(v).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string output = Python.Run("import sys,struct\nfor line in sys.stdin:\n    print(repr(struct.unpack('<d', struct.pack('<q', int(line)))[0]))", input);
        var expected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(values.Count, expected.Length);
        for (int i = 0; i < values.Count; i++)
        {
            Assert.True(expected[i] == PyFloat.ToJsonString(values[i]), $"{values[i]:R}: python {expected[i]}, ours {PyFloat.ToJsonString(values[i])}");
        }
    }
}
