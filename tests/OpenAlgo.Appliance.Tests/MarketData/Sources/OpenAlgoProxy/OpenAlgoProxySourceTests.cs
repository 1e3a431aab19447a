using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// <c>MarketData:Source=OpenAlgo</c> against a real upstream that speaks OpenAlgo's protocol: a
/// second appliance in Zmq mode (the "origin", standing in for OpenAlgo's proxy on 8766) fed by a
/// real NetMQ publisher. What the origin's hub holds is what OpenAlgo's proxy would have been asked for.
/// </summary>
public sealed class OpenAlgoProxySourceTests
{
    private static readonly SymbolKey Reliance = new("NSE", "RELIANCE");

    private static Task<TestAppliance> StartOriginAsync(int port, Action<OpenAlgo.Appliance.Configuration.ApplianceOptions>? configure = null) =>
        TestAppliance.StartAsync(o =>
        {
            o.Listen.Internal = $"127.0.0.1:{port}";
            configure?.Invoke(o);
        });

    private static Task<TestAppliance> StartFrontAsync(int upstreamPort) =>
        TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{upstreamPort}";
            o.MarketData.SupportedBrokers = ""; // the package does not read OpenAlgo's VALID_BROKERS
        }, source: "OpenAlgo");

    private static string Subscribe(string symbol, int mode) =>
        $"{{\"action\": \"subscribe\", \"symbols\": [{{\"symbol\": \"{symbol}\", \"exchange\": \"NSE\"}}], \"mode\": {mode}}}";

    private static string Unsubscribe(string symbol, int mode) =>
        $"{{\"action\": \"unsubscribe\", \"symbols\": [{{\"symbol\": \"{symbol}\", \"exchange\": \"NSE\", \"mode\": {mode}}}]}}";

    [Fact]
    public async Task Many_clients_with_one_key_share_one_upstream_session_and_see_its_replies_byte_for_byte()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port);
        await using var front = await StartFrontAsync(port);

        await using var direct = await WsTestClient.ConnectAsync(origin.InternalUri);
        string directAuth = await direct.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        string directAck = await direct.AskAsync(Subscribe("TCS", 2));
        string directInfo = await direct.AskAsync("{\"action\": \"get_broker_info\"}");
        string directBrokers = await direct.AskAsync("{\"action\": \"get_supported_brokers\"}");
        Assert.Contains("\"count\": 4", directBrokers);
        await direct.DisposeAsync();
        await Eventually.TrueAsync(() => origin.Hub.ClientCount == 0, "direct client gone");

        var clients = new List<WsTestClient>();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                var client = await WsTestClient.ConnectAsync(i % 2 == 0 ? front.InternalUri : front.PublicUri);
                clients.Add(client);
                Assert.Equal(directAuth, await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"));
            }
            Assert.Equal(1, origin.Hub.ClientCount);
            Assert.Equal(directAck, await clients[0].AskAsync(Subscribe("TCS", 2)));
            Assert.Equal(directInfo, await clients[1].AskAsync("{\"action\": \"get_broker_info\"}"));
            Assert.Equal(directBrokers, await clients[2].AskAsync("{\"action\": \"get_supported_brokers\"}"));

            await using var other = await WsTestClient.ConnectAsync(front.InternalUri);
            string otherAuth = await other.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"otherkey\"}");
            Assert.Contains("\"broker\": \"zerodha\", \"user_id\": \"otheruser\"", otherAuth);
            // (the broker-list question used a short connection of its own, closed by now or soon)
            await Eventually.TrueAsync(() => origin.Hub.ClientCount == 2, "one upstream session per key");
            Assert.Equal(2, front.Services.GetRequiredService<OpenAlgoProxySource>().SessionCount);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
        // The last client of a key gone: its upstream session closes, as OpenAlgo's adapter would.
        await Eventually.TrueAsync(() => origin.Hub.ClientCount == 0, "upstream sessions closed");
        Assert.Equal(0, front.Services.GetRequiredService<OpenAlgoProxySource>().SessionCount);
    }

    [Fact]
    public async Task A_large_subscribe_goes_to_OpenAlgo_in_requests_of_at_most_500_symbols()
    {
        // OpenAlgo serves no tick while it works through a subscribe; in requests of 500 its loop
        // gets to them in between. The origin here refuses any longer list, so one request would fail.
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port, o => o.Limits.MaxSymbolsPerMessage = 500);
        await using var front = await StartFrontAsync(port);
        await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
        await client.AuthenticateAsync();
        string symbols = string.Join(", ", Enumerable.Range(0, 1200).Select(i => $"{{\"symbol\": \"S{i}\", \"exchange\": \"NSE\"}}"));
        string ack = await client.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": [{symbols}], \"mode\": 1}}");
        Assert.StartsWith("{\"type\": \"subscribe\", \"status\": \"success\", \"subscriptions\": [{\"symbol\": \"S0\"", ack);
        Assert.Equal(1200, ack.Split("\"status\": \"success\", \"mode\": \"LTP\"").Length - 1);
        Assert.Equal(1200, origin.Hub.ActiveSubscriptionKeys());
    }

    [Fact]
    public async Task Upstream_holds_only_the_highest_mode_of_the_union_and_follows_it_down()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port);
        await using var front = await StartFrontAsync(port);
        using var bus = new BusPublisher(origin.ZmqEndpoint);
        await using var ltp = await WsTestClient.ConnectAsync(front.InternalUri);
        await using var depth = await WsTestClient.ConnectAsync(front.PublicUri);
        await using var quote = await WsTestClient.ConnectAsync(front.InternalUri);
        await ltp.AuthenticateAsync();
        await depth.AuthenticateAsync();
        await quote.AuthenticateAsync();

        await ltp.AskAsync(Subscribe("RELIANCE", 1));
        Assert.Equal(ModeTags.Bit(1), origin.Hub.ModesOf(Reliance));
        string depthAck = await depth.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": \"Depth\", \"depth\": 20}");
        Assert.Equal("{\"type\": \"subscribe\", \"status\": \"success\", \"subscriptions\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"status\": \"success\", \"mode\": \"Depth\", \"depth\": 20, \"broker\": \"fakebroker\"}], \"message\": \"Subscription processing complete\", \"broker\": \"fakebroker\"}", depthAck);
        await Eventually.TrueAsync(() => origin.Hub.ModesOf(Reliance) == ModeTags.Bit(3), "upgrade to Depth replaces LTP upstream");
        await quote.AskAsync(Subscribe("RELIANCE", 2));
        Assert.Equal(ModeTags.Bit(3), origin.Hub.ModesOf(Reliance)); // covered: nothing sent upstream

        // One Depth tick upstream reaches every local client once, tagged per §5.1 with the client's broker.
        string first = await bus.PublishUntilReceivedAsync(depth, "NSE_RELIANCE_DEPTH", "{\"ltp\": 2950.5, \"depth\": {\"buy\": [], \"sell\": []}}");
        Assert.Equal("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 3, \"data\": {\"ltp\": 2950.5, \"depth\": {\"buy\": [], \"sell\": []}}, \"broker\": \"fakebroker\"}", first);
        Assert.Contains("\"mode\": 1, \"data\": {\"ltp\": 2950.5,", await ltp.ReceiveAsync());
        Assert.Contains("\"mode\": 2, \"data\": {\"ltp\": 2950.5,", await quote.ReceiveAsync());
        // What a broker adapter may publish and Python writes back as NaN takes the slow path, same bytes.
        bus.Publish("NSE_RELIANCE_DEPTH", "{\"ltp\": NaN, \"oi\": 12345678901234567890}");
        Assert.Equal("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 3, \"data\": {\"ltp\": NaN, \"oi\": 12345678901234567890}, \"broker\": \"fakebroker\"}", await depth.ReceiveAsync());
        Assert.Contains("\"mode\": 1, \"data\": {\"ltp\": NaN,", await ltp.ReceiveAsync());
        Assert.Contains("\"mode\": 2, \"data\": {\"ltp\": NaN,", await quote.ReceiveAsync());

        // The Depth holder leaves: the upstream is downgraded to Quote, then to LTP, then dropped.
        await depth.AskAsync(Unsubscribe("RELIANCE", 3));
        await Eventually.TrueAsync(() => origin.Hub.ModesOf(Reliance) == ModeTags.Bit(2), "downgrade to Quote");
        await quote.DisposeAsync();
        await Eventually.TrueAsync(() => origin.Hub.ModesOf(Reliance) == ModeTags.Bit(1), "downgrade to LTP when the Quote client disconnects");
        await ltp.AskAsync("{\"action\": \"unsubscribe_all\"}");
        await Eventually.TrueAsync(() => origin.Hub.ModesOf(Reliance) == 0, "unsubscribed upstream when the last client leaves");
        Assert.Equal(1, origin.Hub.ClientCount); // the session stays while its clients are connected
    }

    [Fact]
    public async Task Upstream_refusals_reach_the_client_as_OpenAlgo_wrote_them_and_are_not_counted()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port, o => o.Limits.MaxSymbolsPerClient = 1);
        await using var front = await StartFrontAsync(port);
        await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
        await client.AuthenticateAsync();

        string ack = await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\"}, {\"symbol\": \"TCS\", \"exchange\": \"NSE\"}], \"mode\": 1, \"request_id\": \"r1\"}");
        Assert.Equal("{\"type\": \"subscribe\", \"status\": \"partial\", \"subscriptions\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\", \"status\": \"success\", \"mode\": \"LTP\", \"depth\": 5, \"broker\": \"fakebroker\"}, {\"symbol\": \"TCS\", \"exchange\": \"NSE\", \"status\": \"error\", \"message\": \"Maximum symbols per connection reached: 1. Unsubscribe some symbols first.\", \"broker\": \"fakebroker\"}], \"message\": \"Subscription processing complete\", \"broker\": \"fakebroker\", \"request_id\": \"r1\"}", ack);
        var hub = front.Hub;
        var session = Assert.Single(hub.Sessions);
        Assert.Single(session.Subscriptions);
    }

    [Fact]
    public async Task Authentication_errors_are_relayed_exactly_and_an_unreachable_upstream_is_named()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var front = await StartFrontAsync(port);
        await using var early = await WsTestClient.ConnectAsync(front.InternalUri);
        string unavailable = await early.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        Assert.StartsWith("{\"status\": \"error\", \"code\": \"SERVER_ERROR\", \"message\": \"Market data upstream (OpenAlgo's proxy at ws://127.0.0.1:", unavailable);
        // Closed with 1013 so the SDK reconnects (with backoff) as it would after a refused connection.
        Assert.Equal((1013, "market data upstream unavailable"), await early.ReceiveCloseAsync());

        await using var origin = await StartOriginAsync(port);
        await using var client = await WsTestClient.ConnectAsync(front.PublicUri);
        Assert.Equal("{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}",
            await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"not-a-key\"}"));
        Assert.Equal("{\"status\": \"error\", \"code\": \"NOT_AUTHENTICATED\", \"message\": \"You must authenticate first\"}", await client.AskAsync(Subscribe("INFY", 1)));
        await Eventually.TrueAsync(() => origin.Hub.ClientCount == 0, "the refused key's upstream session is closed");
        // The same socket can still authenticate with a good key afterwards.
        await client.AuthenticateAsync();
        Assert.Equal(1, origin.Hub.ClientCount);
    }

    [Fact]
    public async Task A_valid_key_without_a_broker_is_relayed_and_counts_as_authenticated_as_in_OpenAlgo()
    {
        // The origin checks keys against a real OpenAlgo database, where this user's broker is revoked.
        using var database = new OpenAlgoDatabase();
        database.Seed([("revoked-user-key", "revokeduser", "angel", true)]);
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port, o =>
        {
            o.Auth.Mode = AuthMode.OpenAlgoDatabase;
            o.Auth.DatabasePath = database.Path_;
            o.Auth.ApiKeyPepper = OpenAlgoDatabase.Pepper;
        });
        await using var front = await StartFrontAsync(port);
        await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
        Assert.Equal("{\"status\": \"error\", \"code\": \"BROKER_ERROR\", \"message\": \"No broker configuration found for user\"}",
            await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"revoked-user-key\"}"));
        Assert.Equal("{\"status\": \"error\", \"code\": \"BROKER_ERROR\", \"message\": \"Broker adapter not found\"}", await client.AskAsync(Subscribe("INFY", 1)));
        Assert.Equal(1, origin.Hub.ClientCount); // the key's session stays, as OpenAlgo keeps the connection
        Assert.True(Assert.Single(front.Hub.Sessions).IsAuthenticated);
    }

    [Fact]
    public async Task Authenticate_waits_for_an_upstream_that_is_still_starting()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var front = await StartFrontAsync(port);
        await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
        var reply = client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        await Task.Delay(300); // OpenAlgo restarting: its proxy is not listening yet
        Assert.False(reply.IsCompleted);
        await using var origin = await StartOriginAsync(port);
        Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", await reply);
    }

    [Fact]
    public async Task Keys_OpenAlgo_has_not_accepted_yet_are_checked_upstream_a_few_at_a_time()
    {
        // The origin checks keys like OpenAlgo: Argon2 at OpenAlgo's cost against every stored key.
        using var database = new OpenAlgoDatabase();
        database.Seed([("good-key", "rajandran", "zerodha", false)], OpenAlgoDatabase.OpenAlgoDefaults);
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port, o =>
        {
            o.Auth.Mode = AuthMode.OpenAlgoDatabase;
            o.Auth.DatabasePath = database.Path_;
            o.Auth.ApiKeyPepper = OpenAlgoDatabase.Pepper;
        });
        await using var front = await TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{port}";
        }, source: "OpenAlgo", services: s => s.AddSingleton(sp => new OpenAlgoProxySource(new Uri($"ws://127.0.0.1:{port}"),
            sp.GetRequiredService<MarketDataHub>(), sp.GetRequiredService<ILoggerFactory>(), maxNewKeyChecks: 1) { NewKeyWait = TimeSpan.Zero }));

        var guessers = new List<WsTestClient>();
        try
        {
            for (int i = 0; i < 3; i++) guessers.Add(await WsTestClient.ConnectAsync(front.InternalUri));
            var replies = await Task.WhenAll(guessers.Select((c, i) => c.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"guess-{i}\"}}")));
            Assert.Single(replies, r => r == "{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}");
            Assert.Equal(2, replies.Count(r => r.StartsWith("{\"status\": \"error\", \"code\": \"SERVER_ERROR\", \"message\": \"Too many new API keys", StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var c in guessers) await c.DisposeAsync();
        }
        // A key OpenAlgo has accepted is never held back.
        await using var first = await WsTestClient.ConnectAsync(front.InternalUri);
        await first.AuthenticateAsync("good-key");
        await using var busy = await WsTestClient.ConnectAsync(front.InternalUri);
        var guess = busy.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"guess-9\"}");
        await using var second = await WsTestClient.ConnectAsync(front.InternalUri);
        await second.AuthenticateAsync("good-key");
        await guess;
    }

    [Fact]
    public async Task Re_authenticating_with_another_key_keeps_the_subscriptions_as_OpenAlgo_does()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await StartOriginAsync(port);
        await using var front = await StartFrontAsync(port);
        using var bus = new BusPublisher(origin.ZmqEndpoint);
        await using var client = await WsTestClient.ConnectAsync(front.InternalUri);
        await client.AuthenticateAsync("testkey");
        await client.AskAsync(Subscribe("RELIANCE", 1));
        await client.AskAsync(Subscribe("INFY", 3));

        Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\", \"message\": \"Authentication successful\", \"broker\": \"zerodha\"",
            await client.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"otherkey\"}"));
        // The old key's session had only this client: closed. The new key's session holds both symbols at their modes.
        await Eventually.TrueAsync(() => origin.Hub.ClientCount == 1 && origin.Hub.ModesOf(Reliance) == ModeTags.Bit(1)
            && origin.Hub.ModesOf(new SymbolKey("NSE", "INFY")) == ModeTags.Bit(3), "subscriptions carried over to the new key's session");
        Assert.EndsWith("\"mode\": 1, \"data\": {\"ltp\": 7.0}, \"broker\": \"zerodha\"}", await bus.PublishUntilReceivedAsync(client, "NSE_RELIANCE_LTP", "{\"ltp\": 7.0}"));
    }

    [Fact]
    public async Task A_refused_key_is_answered_from_a_five_minute_cache_without_another_upstream_connection()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var front = await StartFrontAsync(port);
        const string refused = "{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}";
        await using (var origin = await StartOriginAsync(port))
        {
            await using var first = await WsTestClient.ConnectAsync(front.InternalUri);
            Assert.Equal(refused, await first.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"guessed-key\"}"));
        }
        // OpenAlgo's proxy is gone: only the cache can still give OpenAlgo's answer.
        await using var second = await WsTestClient.ConnectAsync(front.InternalUri);
        Assert.Equal(refused, await second.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"guessed-key\"}"));
        Assert.StartsWith("{\"status\": \"error\", \"code\": \"SERVER_ERROR\"", await second.AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"));
    }

    [Fact]
    public async Task Upstream_restart_resumes_ticks_and_order_updates_without_client_reconnects()
    {
        int port = TestAppliance.FreeTcpPort();
        var origin = await StartOriginAsync(port);
        await using var front = await StartFrontAsync(port);
        await using var client = await WsTestClient.ConnectAsync(front.PublicUri);
        await using var quiet = await WsTestClient.ConnectAsync(front.InternalUri);
        await client.AuthenticateAsync();
        await quiet.AuthenticateAsync();
        await client.AskAsync(Subscribe("RELIANCE", 2));
        await client.AskAsync("{\"action\": \"subscribe_orders\"}");
        try
        {
            using (var bus = new BusPublisher(origin.ZmqEndpoint))
            {
                Assert.Contains("\"mode\": 2, \"data\": {\"ltp\": 1.5}", await bus.PublishUntilReceivedAsync(client, "NSE_RELIANCE_QUOTE", "{\"ltp\": 1.5}"));
            }
        }
        finally
        {
            await origin.DisposeAsync();
        }

        // OpenAlgo's proxy restarts (same port, fresh state): the session reconnects, re-authenticates and resubscribes.
        await using var restarted = await StartOriginAsync(port);
        await Eventually.TrueAsync(() => restarted.Hub.ModesOf(Reliance) == ModeTags.Bit(2), "resubscribed after the restart", TimeSpan.FromSeconds(20));
        Assert.Equal(1, restarted.Hub.ClientCount);
        await Eventually.TrueAsync(() => restarted.Hub.Sessions.Any(s => s.OrdersSubscribed), "order updates resubscribed");
        using var bus2 = new BusPublisher(restarted.ZmqEndpoint);
        string tick;
        while (true)
        {
            // Ticks from before the restart may still be queued; the first one from the new upstream has ltp 2.5.
            tick = await bus2.PublishUntilReceivedAsync(client, "NSE_RELIANCE_QUOTE", "{\"ltp\": 2.5}");
            if (tick.Contains("2.5")) break;
        }
        Assert.Equal("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 2, \"data\": {\"ltp\": 2.5}, \"broker\": \"fakebroker\"}", tick);
        while (true)
        {
            try { await client.ReceiveAsync(TimeSpan.FromMilliseconds(200)); } catch (TimeoutException) { break; }
        }

        // Order updates relayed byte for byte, only to the client that asked for them.
        const string update = "{\"type\": \"order_update\", \"user_id\": \"testuser\", \"data\": {\"orderid\": \"42\", \"status\": \"complete\", \"price\": 101.0}}";
        string received = await bus2.PublishUntilReceivedAsync(client, "FAKEBROKER_testuser_orders", update);
        Assert.Equal(update, received);
        await quiet.AssertSilentAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, client.State);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, quiet.State);
    }
}
