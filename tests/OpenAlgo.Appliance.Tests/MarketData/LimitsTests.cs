using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>Limits:* refusals: each a clear protocol error, nothing else disturbed.</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task Server_full_gets_limit_error_and_1013_and_existing_clients_keep_working()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.MaxClients = 2);
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var b = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await a.AuthenticateAsync();
        await using var c = await WsTestClient.ConnectAsync(appliance.InternalUri);
        Assert.Equal("{\"status\": \"error\", \"code\": \"LIMIT_EXCEEDED\", \"message\": \"Server is at its connection limit (2); try again later\"}", await c.ReceiveAsync());
        Assert.Equal((1013, "try again later"), await c.ReceiveCloseAsync());
        await b.AuthenticateAsync();
        Assert.Contains("pong", await a.AskAsync("{\"action\": \"ping\"}"));
    }

    [Fact]
    public async Task Per_user_client_limit_refuses_authentication_only()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.MaxClientsPerUser = 1);
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var b = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await a.AuthenticateAsync();
        Assert.Equal(
            "{\"status\": \"error\", \"code\": \"LIMIT_EXCEEDED\", \"message\": \"Too many connections for user testuser: at most 1\"}",
            await b.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"));
        Assert.Equal("{\"status\": \"error\", \"code\": \"NOT_AUTHENTICATED\", \"message\": \"You must authenticate first\"}",
            await b.AskAsync("{\"action\": \"get_broker_info\"}"));
        await b.AuthenticateAsync("otherkey"); // another user is fine
        await a.DisposeAsync();
        for (int i = 0; i < 50 && appliance.Hub.ClientCount > 1; i++) await Task.Delay(20);
        await using var c = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await c.AuthenticateAsync(); // the slot was released
    }

    [Fact]
    public async Task Symbol_capacity_counts_distinct_symbols_per_user_across_connections_and_modes()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.SymbolsPerUpstreamConnection = 2;
            o.Limits.UpstreamConnectionsPerUser = 1;
        });
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var b = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await a.AuthenticateAsync();
        await b.AuthenticateAsync();
        Assert.Contains("\"status\": \"success\"", await a.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"A\", \"exchange\": \"NSE\", \"mode\": 1}"));
        Assert.Contains("\"status\": \"success\"", await a.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"A\", \"exchange\": \"NSE\", \"mode\": 3}"));
        Assert.Contains("\"status\": \"success\"", await b.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"A\", \"exchange\": \"NSE\", \"mode\": 2}"));
        Assert.Contains("\"status\": \"success\"", await b.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"B\", \"exchange\": \"NSE\", \"mode\": 1}"));
        Assert.Equal(
            "{\"type\": \"subscribe\", \"status\": \"partial\", \"subscriptions\": [{\"symbol\": \"C\", \"exchange\": \"NSE\", \"status\": \"error\", \"message\": \"Maximum capacity reached: 1 connections \\u00d7 2 symbols = 2 symbols. Currently subscribed to 2 symbols.\", \"broker\": \"fakebroker\"}], \"message\": \"Subscription processing complete\", \"broker\": \"fakebroker\"}",
            await a.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"C\", \"exchange\": \"NSE\", \"mode\": 1}"));
        // Another user has their own capacity.
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await other.AuthenticateAsync("otherkey");
        Assert.Contains("\"status\": \"success\"", await other.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"C\", \"exchange\": \"NSE\", \"mode\": 1}"));
        // Releasing B frees a slot for the user.
        await b.AskAsync("{\"action\": \"unsubscribe\", \"symbol\": \"B\", \"exchange\": \"NSE\", \"mode\": 1}");
        Assert.Contains("\"status\": \"success\"", await a.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"C\", \"exchange\": \"NSE\", \"mode\": 1}"));
    }

    [Fact]
    public async Task Per_client_symbol_limit_is_refused_per_entry()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.MaxSymbolsPerClient = 1);
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await a.AuthenticateAsync();
        string reply = await a.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"A\", \"exchange\": \"NSE\"}, {\"symbol\": \"B\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        Assert.Contains("\"status\": \"partial\"", reply);
        Assert.Contains("\"message\": \"Maximum symbols per connection reached: 1. Unsubscribe some symbols first.\"", reply);
    }

    [Fact]
    public async Task Message_rate_limit_refuses_the_excess_and_recovers()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.MaxMessagesPerSecond = 5;
            o.Limits.MessageBurst = 3;
        });
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        for (int i = 0; i < 3; i++) Assert.Contains("pong", await a.AskAsync("{\"action\": \"ping\"}"));
        Assert.Equal("{\"status\": \"error\", \"code\": \"RATE_LIMITED\", \"message\": \"Too many messages: at most 5 per second per connection\"}",
            await a.AskAsync("{\"action\": \"ping\"}"));
        await Task.Delay(450);
        Assert.Contains("pong", await a.AskAsync("{\"action\": \"ping\"}"));
    }

    private static string SymbolList(string action, int count, string extra = "") =>
        $"{{\"action\": \"{action}\", \"symbols\": [{string.Join(", ", Enumerable.Range(0, count).Select(i => $"{{\"symbol\": \"S{i}\", \"exchange\": \"NSE\"{extra}}}"))}], \"mode\": 1}}";

    [Fact]
    public async Task A_symbols_list_over_the_per_message_limit_is_refused_whole_as_it_is_read()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.MaxSymbolsPerMessage = 3);
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await a.AuthenticateAsync();
        Assert.Equal(
            "{\"status\": \"error\", \"code\": \"LIMIT_EXCEEDED\", \"message\": \"Too many symbols in one message: at most 3 per message\"}",
            await a.AskAsync(SymbolList("subscribe", 4)));
        // Nothing of it was subscribed.
        Assert.Equal(0, appliance.Hub.ActiveSubscriptionKeys());
        Assert.Contains("\"successful\": [], \"failed\": []", await a.AskAsync("{\"action\": \"unsubscribe_all\"}"));
        // At the limit it is an ordinary subscribe, and the same bound applies to unsubscribe lists.
        Assert.Contains("\"type\": \"subscribe\", \"status\": \"success\"", await a.AskAsync(SymbolList("subscribe", 3)));
        Assert.Equal(3, appliance.Hub.ActiveSubscriptionKeys());
        Assert.Equal(
            "{\"status\": \"error\", \"code\": \"LIMIT_EXCEEDED\", \"message\": \"Too many symbols in one message: at most 3 per message\"}",
            await a.AskAsync(SymbolList("unsubscribe", 4, ", \"mode\": 1")));
        Assert.Equal(3, appliance.Hub.ActiveSubscriptionKeys());
        Assert.Contains("\"status\": \"success\"", await a.AskAsync(SymbolList("unsubscribe", 3, ", \"mode\": 1")));
        Assert.Equal(0, appliance.Hub.ActiveSubscriptionKeys());
    }

    [Fact]
    public async Task An_object_with_too_many_keys_is_refused_and_the_connection_goes_on()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.MaxKeysPerObject = 16);
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        string keys = string.Concat(Enumerable.Range(0, 16).Select(i => $"\"k{i}\": {i}, "));
        Assert.Equal(
            "{\"status\": \"error\", \"code\": \"LIMIT_EXCEEDED\", \"message\": \"Too many keys in one JSON object: at most 16\"}",
            await a.AskAsync("{" + keys + "\"action\": \"ping\"}"));
        // Nested objects count on their own: 16 keys in each is fine.
        Assert.Contains("pong", await a.AskAsync("{\"action\": \"ping\", \"timestamp\": {" + keys.TrimEnd(',', ' ') + "}}"));
        await a.AuthenticateAsync();
    }
}
