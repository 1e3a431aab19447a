using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>The fan-out rule of spec §5.1 over real sockets and a real ZeroMQ publisher.</summary>
public sealed class FanOutTests
{
    [Fact]
    public async Task Lower_modes_get_higher_mode_ticks_once_tagged_with_the_highest_held_mode()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 3}");
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\"}], \"mode\": 2}");

        Assert.Contains("\"mode\": 1, \"data\": {\"ltp\": 1.0}", await bus.PublishUntilReceivedAsync(client, "NSE_RELIANCE_LTP", "{\"ltp\": 1.0}"));
        bus.Publish("NSE_RELIANCE_QUOTE", "{\"ltp\": 2.0, \"volume\": 10}");
        Assert.Equal("{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {\"ltp\": 2.0, \"volume\": 10}, \"broker\": \"fakebroker\"}", await client.ReceiveAsync());
        bus.Publish("NSE_RELIANCE_DEPTH", "{\"ltp\": 3.0, \"depth\": {\"buy\": [], \"sell\": []}}");
        Assert.Contains("\"mode\": 3, \"data\": {\"ltp\": 3.0, \"depth\": {\"buy\": [], \"sell\": []}}", await client.ReceiveAsync());
        // INFY held at Quote: an LTP tick is not delivered, a Quote tick is.
        bus.Publish("NSE_INFY_LTP", "{\"ltp\": 4.0}");
        bus.Publish("NSE_INFY_QUOTE", "{\"ltp\": 5.0}");
        Assert.Contains("\"symbol\": \"INFY\", \"exchange\": \"NSE\", \"mode\": 2, \"data\": {\"ltp\": 5.0}", await client.ReceiveAsync());
        // Index and underscore symbols route by the topic grammar.
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"NIFTY\", \"exchange\": \"NSE_INDEX\"}, {\"symbol\": \"SOL_INR\", \"exchange\": \"CRYPTO\"}], \"mode\": 1}");
        bus.Publish("NSE_INDEX_NIFTY_LTP", "{\"ltp\": 24500.15}");
        Assert.Contains("\"symbol\": \"NIFTY\", \"exchange\": \"NSE_INDEX\", \"mode\": 1, \"data\": {\"ltp\": 24500.15}", await client.ReceiveAsync());
        bus.Publish("CRYPTO_SOL_INR_LTP", "{\"ltp\": 800.10}");
        Assert.Contains("\"symbol\": \"SOL_INR\", \"exchange\": \"CRYPTO\", \"mode\": 1, \"data\": {\"ltp\": 800.1}", await client.ReceiveAsync());
        await client.AssertSilentAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Every_user_receives_each_tick_with_their_own_broker_and_bad_bus_messages_are_dropped()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var b = await WsTestClient.ConnectAsync(appliance.PublicUri);
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await a.AuthenticateAsync("testkey");
        await b.AuthenticateAsync("otherkey");
        await a.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 1}");
        await b.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 2}");

        Assert.EndsWith("\"mode\": 1, \"data\": {\"ltp\": 800.0}, \"broker\": \"fakebroker\"}", await bus.PublishUntilReceivedAsync(a, "NSE_SBIN_QUOTE", "{\"ltp\": 800.0}"));
        Assert.EndsWith("\"mode\": 2, \"data\": {\"ltp\": 800.0}, \"broker\": \"zerodha\"}", await b.ReceiveAsync());
        while (true)
        {
            // Drain warm-up duplicates the slow joiner may have let through.
            try { await b.ReceiveAsync(TimeSpan.FromMilliseconds(200)); } catch (TimeoutException) { break; }
        }
        while (true)
        {
            try { await a.ReceiveAsync(TimeSpan.FromMilliseconds(100)); } catch (TimeoutException) { break; }
        }

        bus.Publish("NSE_SBIN_FOO", "{\"ltp\": 1}");          // invalid mode
        bus.Publish("NSE_SBIN_LTP", "not json");              // invalid payload
        bus.Publish("x_positions", "{}");                      // ignored topic
        bus.Publish("NSE_SBIN_LTP", "{\"ltp\": 801.5}");
        Assert.Contains("\"data\": {\"ltp\": 801.5}", await a.ReceiveAsync());
        await b.AssertSilentAsync(TimeSpan.FromMilliseconds(200)); // Quote-only: no LTP tick

        // Unsubscribing one client leaves the other flowing.
        await b.AskAsync("{\"action\": \"unsubscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 2}");
        bus.Publish("NSE_SBIN_QUOTE", "{\"ltp\": 802.0}");
        Assert.Contains("\"data\": {\"ltp\": 802.0}", await a.ReceiveAsync());
        await b.AssertSilentAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Simulated_source_streams_ltp_quote_and_depth_shapes()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.MarketData.SimulatedTicksPerSecond = 50, source: "Simulated");
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"TCS\", \"exchange\": \"NSE\"}], \"mode\": 3}");
        string tick = await client.ReceiveAsync();
        Assert.Matches("^\\{\"type\": \"market_data\", \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 3, \"data\": \\{\"ltp\": [0-9.]+, \"ltt\": \\d+, \"volume\": \\d+, \"open\": [0-9.]+, \"high\": [0-9.]+, \"low\": [0-9.]+, \"close\": [0-9.]+, \"last_quantity\": \\d+, \"oi\": \\d+, \"upper_circuit\": [0-9.]+, \"lower_circuit\": [0-9.]+, \"depth\": \\{\"buy\": \\[(\\{\"price\": [0-9.]+, \"quantity\": \\d+, \"orders\": \\d+\\}(, )?){5}\\], \"sell\": \\[(\\{\"price\": [0-9.]+, \"quantity\": \\d+, \"orders\": \\d+\\}(, )?){5}\\]\\}, \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 3, \"timestamp\": \\d{13}\\}, \"broker\": \"fakebroker\"\\}$", tick);
        await client.AskAsync("{\"action\": \"unsubscribe_all\"}");
        await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"TCS\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        string ltp = "";
        var seen = new List<string>();
        try
        {
            do { ltp = await client.ReceiveAsync(); seen.Add(ltp[..Math.Min(200, ltp.Length)]); } while (!ltp.Contains("\"mode\": 1, \"data\""));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"ticks in {appliance.Hub.TicksIn}, frames out {appliance.Hub.FramesOut}, active {string.Join(",", appliance.Hub.ActiveSymbols())}, state {client.State}, seen {string.Join(" | ", seen)}");
        }
        Assert.Matches("\"data\": \\{\"ltp\": [0-9.]+, \"ltt\": \\d+, \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": \\d+\\}", ltp);
    }
}
