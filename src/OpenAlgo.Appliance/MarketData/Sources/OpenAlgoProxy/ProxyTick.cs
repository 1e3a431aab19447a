using System.Text.Json;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// Reads an upstream <c>market_data</c> message without building it: OpenAlgo wrote it with
/// <c>json.dumps</c>, so its <c>data</c> value is already in the exact form the hub sends on and is
/// passed through as a slice. Anything unusual (Python's NaN, other key orders) returns false and
/// the caller falls back to a full parse.
/// </summary>
internal static class ProxyTick
{
    public static ReadOnlySpan<byte> Prefix => "{\"type\": \"market_data\""u8;

    public static bool TryRead(ReadOnlySpan<byte> message, out string symbol, out string exchange, out int mode, out Range data)
    {
        symbol = exchange = "";
        mode = 0;
        data = default;
        try
        {
            var reader = new Utf8JsonReader(message);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("symbol"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
                    symbol = reader.GetString()!;
                }
                else if (reader.ValueTextEquals("exchange"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
                    exchange = reader.GetString()!;
                }
                else if (reader.ValueTextEquals("mode"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out mode)) return false;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    if (!reader.Read()) return false;
                    int start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    data = new Range(start, (int)reader.BytesConsumed);
                }
                else
                {
                    reader.Skip();
                }
            }
            return reader.TokenType == JsonTokenType.EndObject && symbol.Length > 0 && exchange.Length > 0
                && mode is >= 1 and <= 3 && !data.Equals(default(Range));
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
