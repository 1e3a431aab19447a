using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>Every row of the spec's error table (§4.3) that the appliance can produce, exact envelope, connection left open.</summary>
public sealed class ErrorTableTests
{
    private static string Envelope(string code, string message) => $"{{\"status\": \"error\", \"code\": \"{code}\", \"message\": \"{message}\"}}";

    public static TheoryData<string, string, string> BeforeAuthentication => new()
    {
        { "not json", "INVALID_JSON", "Invalid JSON message" },
        { "{\"action\": \"bogus\"}", "INVALID_ACTION", "Invalid action: bogus" },
        { "{}", "INVALID_ACTION", "Invalid action: None" },
        { "{\"action\": \"\", \"type\": \"\"}", "INVALID_ACTION", "Invalid action: " },
        { "{\"action\": 5}", "INVALID_ACTION", "Invalid action: 5" },
        { "{\"action\": [\"x\"]}", "INVALID_ACTION", "Invalid action: ['x']" },
        { "[1, 2]", "SERVER_ERROR", "'list' object has no attribute 'get'" },
        { "null", "SERVER_ERROR", "'NoneType' object has no attribute 'get'" },
        { "\"x\"", "SERVER_ERROR", "'str' object has no attribute 'get'" },
        { "5", "SERVER_ERROR", "'int' object has no attribute 'get'" },
        // CPython's json.loads raises RecursionError (not a JSONDecodeError) on deep nesting.
        { new string('[', 600) + new string(']', 600), "SERVER_ERROR", "maximum recursion depth exceeded while decoding a JSON array from a unicode string" },
        { string.Concat(Enumerable.Repeat("{\"a\": ", 600)) + "1" + new string('}', 600), "SERVER_ERROR", "maximum recursion depth exceeded while decoding a JSON object from a unicode string" },
        { "{\"action\": \"authenticate\"}", "AUTHENTICATION_ERROR", "API key is required" },
        { "{\"action\": \"auth\", \"api_key\": \"\"}", "AUTHENTICATION_ERROR", "API key is required" },
        { "{\"action\": \"authenticate\", \"api_key\": \"wrong\"}", "AUTHENTICATION_ERROR", "Invalid API key" },
        { "{\"action\": \"authenticate\", \"api_key\": 12345}", "SERVER_ERROR", "'int' object has no attribute 'encode'" },
        { "{\"action\": \"subscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\"}", "NOT_AUTHENTICATED", "You must authenticate first" },
        { "{\"action\": \"unsubscribe_all\"}", "NOT_AUTHENTICATED", "You must authenticate first" },
        { "{\"action\": \"subscribe_orders\"}", "NOT_AUTHENTICATED", "You must authenticate first" },
        { "{\"action\": \"get_broker_info\"}", "NOT_AUTHENTICATED", "You must authenticate first" },
    };

    public static TheoryData<string, string, string> AfterAuthentication => new()
    {
        { "{\"action\": \"subscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": 5}", "INVALID_MODE", "Invalid mode 5; expected 1 (LTP), 2 (Quote), or 3 (Depth)" },
        { "{\"action\": \"subscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": \"foo\"}", "INVALID_MODE", "Invalid mode 'foo'; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)" },
        { "{\"action\": \"subscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": true}", "INVALID_MODE", "Mode must be int or str, got bool (True)" },
        { "{\"action\": \"subscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": 1.0}", "INVALID_MODE", "Mode must be int or str, got float" },
        { "{\"action\": \"subscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": null}", "INVALID_MODE", "Mode must be int or str, got NoneType" },
        { "{\"action\": \"subscribe\", \"mode\": 1}", "INVALID_PARAMETERS", "At least one symbol must be specified" },
        { "{\"action\": \"subscribe\", \"symbols\": [], \"symbol\": \"X\"}", "INVALID_PARAMETERS", "At least one symbol must be specified" },
        { "{\"action\": \"subscribe\", \"symbols\": \"RELIANCE\"}", "SERVER_ERROR", "'str' object has no attribute 'get'" },
        { "{\"action\": \"subscribe\", \"symbols\": 7}", "SERVER_ERROR", "'int' object is not iterable" },
        { "{\"action\": \"unsubscribe\"}", "INVALID_PARAMETERS", "Either symbols or unsubscribe_all is required" },
        { "{\"action\": \"unsubscribe\", \"symbol\": \"X\", \"exchange\": \"NSE\", \"mode\": 0}", "INVALID_MODE", "Invalid mode 0; expected 1 (LTP), 2 (Quote), or 3 (Depth)" },
        { "{\"action\": \"unsubscribe\", \"symbols\": [\"x\"]}", "SERVER_ERROR", "'str' object has no attribute 'get'" },
    };

    [Theory]
    [MemberData(nameof(BeforeAuthentication))]
    public async Task Errors_before_authentication(string request, string code, string message)
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        Assert.Equal(Envelope(code, message), await client.AskAsync(request));
        // The connection stays usable.
        await client.AuthenticateAsync();
    }

    [Theory]
    [MemberData(nameof(AfterAuthentication))]
    public async Task Errors_after_authentication(string request, string code, string message)
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        Assert.Equal(Envelope(code, message), await client.AskAsync(request));
        Assert.Contains("\"type\": \"pong\"", await client.AskAsync("{\"action\": \"ping\"}"));
    }

    [Fact]
    public async Task Binary_frames_carry_json_too()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.SendAsync("{\"action\": \"authenticate\", \"apikey\": \"testkey\"}"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Binary);
        Assert.Contains("\"user_id\": \"testuser\"", await client.ReceiveAsync());
    }

    [Fact]
    public async Task Unsubscribe_list_entry_without_exchange_but_bad_mode_fails_with_null_exchange()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        Assert.Equal(
            "{\"type\": \"unsubscribe\", \"status\": \"error\", \"message\": \"Unsubscription processing complete\", \"successful\": [], \"failed\": [{\"symbol\": \"X\", \"exchange\": null, \"status\": \"error\", \"message\": \"Invalid mode 9; expected 1 (LTP), 2 (Quote), or 3 (Depth)\", \"broker\": \"fakebroker\"}], \"broker\": \"fakebroker\"}",
            await client.AskAsync("{\"action\": \"unsubscribe\", \"symbols\": [{\"symbol\": \"X\", \"mode\": 9}], \"mode\": 1}"));
    }

    [Fact]
    public async Task Subscribe_skips_incomplete_entries_silently_and_echoes_depth_as_sent()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        Assert.Equal(
            "{\"type\": \"subscribe\", \"status\": \"success\", \"subscriptions\": [{\"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"status\": \"success\", \"mode\": \"Depth\", \"depth\": 20, \"broker\": \"fakebroker\"}], \"message\": \"Subscription processing complete\", \"broker\": \"fakebroker\"}",
            await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"SBIN\", \"exchange\": \"NSE\"}, {\"symbol\": \"NOEX\"}, {\"exchange\": \"NSE\"}], \"mode\": \"depth\", \"depth\": 20}"));
    }
}
