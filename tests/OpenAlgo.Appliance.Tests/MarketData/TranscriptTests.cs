using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>
/// The observed transcripts of docs/openalgo-protocol.md, replayed against a real appliance over
/// both doors (the internal ws:// listener and wss:// /ws) and compared byte for byte.
/// </summary>
public sealed class TranscriptTests
{
    public static TheoryData<string> Doors => ["internal", "public"];

    private static Uri Door(TestAppliance appliance, string door) => door == "internal" ? appliance.InternalUri : appliance.PublicUri;

    [Theory]
    [MemberData(nameof(Doors))]
    public async Task Complete_session_of_section_4_0(string door)
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(Door(appliance, door));
        using var bus = new BusPublisher(appliance.ZmqEndpoint);

        Assert.Equal(
            "{\"type\": \"auth\", \"status\": \"success\", \"message\": \"Authentication successful\", \"broker\": \"fakebroker\", \"user_id\": \"testuser\", \"supported_features\": {\"ltp\": true, \"quote\": true, \"depth\": true}}",
            await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"));
        Assert.Equal(
            "{\"type\": \"subscribe\", \"status\": \"success\", \"subscriptions\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"status\": \"success\", \"mode\": \"LTP\", \"depth\": 5, \"broker\": \"fakebroker\"}], \"message\": \"Subscription processing complete\", \"broker\": \"fakebroker\"}",
            await client.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"depth\": 5}"));
        Assert.Equal(
            "{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}, \"broker\": \"fakebroker\"}",
            await bus.PublishUntilReceivedAsync(client, "NSE_RELIANCE_LTP", "{\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}"));
        Assert.Equal(
            "{\"type\": \"unsubscribe\", \"status\": \"success\", \"message\": \"Unsubscription processing complete\", \"successful\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"status\": \"success\", \"broker\": \"fakebroker\"}], \"failed\": [], \"broker\": \"fakebroker\"}",
            await client.AskAsync("{\"action\": \"unsubscribe\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1}"));
    }

    [Theory]
    [MemberData(nameof(Doors))]
    public async Task Partial_subscribe_with_request_id_and_capacity_refusal(string door)
    {
        // The spec's mixed ack (§4.5) comes from a broker refusing a symbol; here the refusal is
        // the pool capacity message of §7, produced by limiting capacity to one symbol.
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.SymbolsPerUpstreamConnection = 1;
            o.Limits.UpstreamConnectionsPerUser = 1;
        });
        await using var client = await WsTestClient.ConnectAsync(Door(appliance, door));
        await client.AuthenticateAsync();
        Assert.Equal(
            "{\"type\": \"subscribe\", \"status\": \"partial\", \"subscriptions\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\", \"status\": \"success\", \"mode\": \"Quote\", \"depth\": 5, \"broker\": \"fakebroker\"}, {\"symbol\": \"BADSYM\", \"exchange\": \"NSE\", \"status\": \"error\", \"message\": \"Maximum capacity reached: 1 connections \\u00d7 1 symbols = 1 symbols. Currently subscribed to 1 symbols.\", \"broker\": \"fakebroker\"}], \"message\": \"Subscription processing complete\", \"broker\": \"fakebroker\", \"request_id\": \"r1\"}",
            await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\"}, {\"symbol\": \"BADSYM\", \"exchange\": \"NSE\"}], \"mode\": 2, \"depth\": 5, \"request_id\": \"r1\"}"));
    }

    [Theory]
    [MemberData(nameof(Doors))]
    public async Task Unsubscribe_partial_of_section_4_6(string door)
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(Door(appliance, door));
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\"}], \"mode\": 2}");
        Assert.Equal(
            "{\"type\": \"unsubscribe\", \"status\": \"partial\", \"message\": \"Unsubscription processing complete\", \"successful\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\", \"status\": \"success\", \"broker\": \"fakebroker\"}], \"failed\": [{\"symbol\": \"NOPE\", \"exchange\": \"NSE\", \"status\": \"error\", \"message\": \"Invalid mode 9; expected 1 (LTP), 2 (Quote), or 3 (Depth)\", \"broker\": \"fakebroker\"}], \"broker\": \"fakebroker\", \"request_id\": \"u1\"}",
            await client.AskAsync("{\"action\": \"unsubscribe\", \"symbols\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\", \"mode\": 2}, {\"symbol\": \"NOPE\", \"exchange\": \"NSE\", \"mode\": 9}], \"request_id\": \"u1\"}"));
        // A second unsubscribe_all with nothing left: success with both lists empty (observed).
        Assert.Equal(
            "{\"type\": \"unsubscribe\", \"status\": \"success\", \"message\": \"Unsubscription processing complete\", \"successful\": [], \"failed\": [], \"broker\": \"fakebroker\"}",
            await client.AskAsync("{\"action\": \"unsubscribe_all\"}"));
    }

    [Fact]
    public async Task Orders_broker_info_supported_brokers_and_ping()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        Assert.Equal(
            "{\"type\": \"supported_brokers\", \"status\": \"success\", \"brokers\": [\"fivepaisa\", \"fivepaisaxts\", \"aliceblue\", \"angel\"], \"count\": 4}",
            await client.AskAsync("{\"action\": \"get_supported_brokers\"}"));
        string pong = await client.AskAsync("{\"action\": \"ping\", \"timestamp\": 1737345600000, \"_pingId\": 7}");
        Assert.Matches("^\\{\"type\": \"pong\", \"status\": \"success\", \"server_timestamp\": \\d{13}, \"client_timestamp\": 1737345600000, \"_pingId\": 7\\}$", pong);
        Assert.Matches("^\\{\"type\": \"pong\", \"status\": \"success\", \"server_timestamp\": \\d{13}\\}$", await client.AskAsync("{\"type\": \"ping\"}"));

        await client.AuthenticateAsync();
        Assert.Equal(
            "{\"type\": \"subscribe_orders\", \"status\": \"success\", \"message\": \"Subscribed to order updates\", \"request_id\": \"o1\"}",
            await client.AskAsync("{\"action\": \"subscribe_orders\", \"request_id\": \"o1\"}"));
        Assert.Equal(
            "{\"type\": \"broker_info\", \"status\": \"success\", \"broker\": \"fakebroker\", \"adapter_status\": \"connected\", \"user_id\": \"testuser\"}",
            await client.AskAsync("{\"action\": \"get_broker_info\"}"));

        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        const string update = "{\"type\": \"order_update\", \"user_id\": \"testuser\", \"mode\": \"live\", \"broker\": \"zerodha\", \"orderid\": \"250408000989443\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"action\": \"BUY\", \"quantity\": 1, \"price\": 0.0, \"trigger_price\": 0.0, \"pricetype\": \"MARKET\", \"product\": \"MIS\", \"order_status\": \"complete\", \"filled_quantity\": 1, \"pending_quantity\": 0, \"average_price\": 1418.4, \"rejection_reason\": \"\"}";
        Assert.Equal(update, await bus.PublishUntilReceivedAsync(client, "ZERODHA_testuser_orders", update));

        Assert.Equal(
            "{\"type\": \"unsubscribe_orders\", \"status\": \"success\", \"message\": \"Unsubscribed from order updates\"}",
            await client.AskAsync("{\"action\": \"unsubscribe_orders\"}"));
        bus.Publish("ZERODHA_testuser_orders", update);
        await client.AssertSilentAsync(TimeSpan.FromMilliseconds(300));
    }
}
