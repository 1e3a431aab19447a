using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Observability.Trace;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>How one message becomes one trace line: secrets out, one line, bounded.</summary>
public sealed class TraceTextTests
{
    private const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("{\"action\": \"authenticate\", \"api_key\": \"§\"}", "{\"action\": \"authenticate\", \"api_key\": \"[redacted FP]\"}")]
    [InlineData("{\"API-KEY\" : \"§\", \"mode\": 1}", "{\"API-KEY\" : \"[redacted FP]\", \"mode\": 1}")]
    [InlineData("{\"password\": {\"nested\": [\"§\", \"}\"]}, \"a\": 2}", "{\"password\": \"[redacted]\", \"a\": 2}")]
    [InlineData("{\"secret\": 12345, \"b\": 1}", "{\"secret\": \"[redacted]\", \"b\": 1}")]
    [InlineData("{\"key\": \"§", "{\"key\": \"[redacted FP]\"")]
    [InlineData("api_key=§&x=1", "api_key=[redacted]&x=1")]
    [InlineData("{\"note\": \"my key is §!\"}", "{\"note\": \"my key is [redacted]!\"}")]
    public void Secrets_are_redacted_wherever_they_stand(string message, string expected)
    {
        string redacted = TraceText.Redact(message.Replace("§", Key, StringComparison.Ordinal));
        Assert.Equal(expected.Replace("FP", ApiKeyFingerprint.Of(Key), StringComparison.Ordinal), redacted);
        Assert.DoesNotContain(Key[..32], redacted);
    }

    [Fact]
    public void Market_data_stays_as_it_is_instrument_tokens_included()
    {
        const string tick = "{\"ltp\": 2950.5, \"token\": \"2885\", \"symbol\": \"NIFTY25JAN23500CE\", \"depth\": {\"buy\": [{\"price\": 1, \"quantity\": 2}]}}";
        Assert.Equal(tick, TraceText.Redact(tick));
    }

    [Fact]
    public void One_message_is_one_line_and_a_long_one_is_cut()
    {
        Assert.Equal("a\\nb\\r\\u0000c\\u2028", TraceText.Of("a\nb\r\0c\u2028"u8));
        string line = TraceText.Of(System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("ab ", 4000))));
        Assert.EndsWith("… (12000 bytes in all)", line);
        Assert.True(line.Length < TraceText.MaxChars + 40);
    }

    [Fact]
    public void Server_frames_are_read_as_their_message_and_keepalives_are_left_out()
    {
        Assert.Equal("{\"a\": 1}", TraceText.Frame(OpenAlgo.Appliance.MarketData.WebSockets.WebSocketFrames.Text("{\"a\": 1}"u8)));
        Assert.Equal("close 1008 too slow", TraceText.Frame(OpenAlgo.Appliance.MarketData.WebSockets.WebSocketFrames.Close(1008, "too slow")));
        Assert.Null(TraceText.Frame(OpenAlgo.Appliance.MarketData.WebSockets.WebSocketFrames.Build(OpenAlgo.Appliance.MarketData.WebSockets.WebSocketFrames.OpPing, [1, 2, 3, 4])));
        string big = string.Concat(Enumerable.Repeat("zz ", 25_000));
        Assert.StartsWith("zz zz", TraceText.Frame(OpenAlgo.Appliance.MarketData.WebSockets.WebSocketFrames.Text(System.Text.Encoding.UTF8.GetBytes(big))));
    }
}
