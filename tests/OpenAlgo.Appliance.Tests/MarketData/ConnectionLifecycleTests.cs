using System.Text;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>Timers, close codes and protocol violations (spec §3, §6), each leaving other clients untouched.</summary>
public sealed class ConnectionLifecycleTests
{
    [Fact]
    public async Task Unauthenticated_socket_is_closed_with_4401_auth_timeout_and_authenticated_one_stays()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.AuthGraceSeconds = 1);
        // The grace runs from the idle socket's connect (authenticating the other one may take a while under load).
        var started = DateTime.UtcNow;
        await using var idle = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var authed = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await authed.AuthenticateAsync();
        Assert.Equal((4401, "auth timeout"), await idle.ReceiveCloseAsync(TimeSpan.FromSeconds(5)));
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.5, 6); // 1 s grace + one 250 ms sweep; wide for a busy machine
        await Task.Delay(500);
        Assert.Contains("\"type\": \"pong\"", await authed.AskAsync("{\"action\": \"ping\"}"));
    }

    [Fact]
    public async Task Peer_that_ignores_pings_is_closed_with_1011_and_a_ponging_peer_is_not()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.PingIntervalSeconds = 0.5;
            o.Limits.PingTimeoutSeconds = 1;
        });
        using var deaf = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        await deaf.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        await using var healthy = await WsTestClient.ConnectAsync(appliance.InternalUri); // ClientWebSocket answers Pings
        await healthy.AuthenticateAsync();

        // The raw client reads frames (so TCP is not what stalls) but never answers a Ping.
        var (code, reason) = await deaf.ReadCloseAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(1011, code);
        Assert.Equal("keepalive ping timeout", reason);
        Assert.Contains("\"type\": \"pong\"", await healthy.AskAsync("{\"action\": \"ping\"}"));
    }

    [Fact]
    public async Task Server_answers_client_pings_with_the_same_payload()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        await raw.SendFrameAsync(0x9, "hello"u8.ToArray());
        var frame = await raw.ReadFrameAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0xA, frame!.Value.Opcode);
        Assert.Equal("hello", Encoding.UTF8.GetString(frame.Value.Payload));
    }

    [Fact]
    public async Task Message_over_one_mebibyte_is_closed_with_1009_and_others_continue()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await other.AuthenticateAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        await raw.SendFrameAsync(0x1, new byte[(1 << 20) + 1]);
        var (code, reason) = await raw.ReadCloseAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1009, code);
        Assert.Equal("over size limit (1048577 > 1048576 bytes)", reason);

        // Exactly 1 MiB is fine (it is not JSON, so the reply is INVALID_JSON).
        using var atLimit = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        var payload = new byte[1 << 20];
        Array.Fill(payload, (byte)' ');
        await atLimit.SendFrameAsync(0x1, payload);
        var reply = await atLimit.ReadFrameAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("{\"status\": \"error\", \"code\": \"INVALID_JSON\", \"message\": \"Invalid JSON message\"}", Encoding.UTF8.GetString(reply!.Value.Payload));
        Assert.Contains("\"type\": \"pong\"", await other.AskAsync("{\"action\": \"ping\"}"));
    }

    [Theory]
    [InlineData("unmasked", 1002, "incorrect masking")]
    [InlineData("rsv", 1002, "reserved bits must be 0")]
    [InlineData("continuation", 1002, "unexpected continuation frame")]
    [InlineData("opcode", 1002, "invalid opcode: 3")]
    [InlineData("utf8", 1007, "invalid UTF-8")]
    public async Task Protocol_violations_close_with_the_rfc_code(string violation, int expectedCode, string expectedReason)
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        var json = "{\"action\": \"ping\"}"u8.ToArray();
        switch (violation)
        {
            case "unmasked": await raw.SendFrameAsync(0x1, json, mask: false); break;
            case "rsv": await raw.SendFrameAsync(0x1, json, rsv: 0x40); break;
            case "continuation": await raw.SendFrameAsync(0x0, json); break;
            case "opcode": await raw.SendFrameAsync(0x3, json); break;
            case "utf8": await raw.SendFrameAsync(0x1, [0x22, 0xff, 0x22]); break;
        }
        Assert.Equal((expectedCode, expectedReason), await raw.ReadCloseAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Fragmented_messages_and_interleaved_pings_are_assembled()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        await raw.SendFrameAsync(0x1, "{\"action\": "u8.ToArray(), fin: false);
        await raw.SendFrameAsync(0x9, "p"u8.ToArray());
        await raw.SendFrameAsync(0x0, "\"get_supported_brokers\"}"u8.ToArray());
        var pong = await raw.ReadFrameAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0xA, pong!.Value.Opcode);
        var reply = await raw.ReadFrameAsync(TimeSpan.FromSeconds(5));
        Assert.StartsWith("{\"type\": \"supported_brokers\"", Encoding.UTF8.GetString(reply!.Value.Payload));
    }

    [Fact]
    public async Task Client_close_is_echoed_and_its_subscriptions_are_released()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port);
        await raw.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        await raw.ReadFrameAsync(TimeSpan.FromSeconds(5));
        await raw.SendTextAsync("{\"action\": \"subscribe\", \"symbol\": \"SBIN\", \"exchange\": \"NSE\", \"mode\": 1}");
        await raw.ReadFrameAsync(TimeSpan.FromSeconds(5));
        // Routing follows the ack (so no tick overtakes it): give it a moment.
        for (int i = 0; i < 50 && appliance.Hub.ActiveSymbols().Count == 0; i++) await Task.Delay(20);
        Assert.Single(appliance.Hub.ActiveSymbols());
        await raw.SendFrameAsync(0x8, [0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e']);
        Assert.Equal((1000, ""), await raw.ReadCloseAsync(TimeSpan.FromSeconds(5)));
        for (int i = 0; i < 50 && appliance.Hub.ClientCount > 0; i++) await Task.Delay(50);
        Assert.Equal(0, appliance.Hub.ClientCount);
        Assert.Empty(appliance.Hub.ActiveSymbols());
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_conflated_then_closed_with_1008_while_others_get_every_tick()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Limits.ClientQueueFrames = 512;
            o.Limits.SlowClientTimeoutSeconds = 1;
            o.Limits.CloseTimeoutSeconds = 1;
        });
        await using var fast = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await fast.AuthenticateAsync();
        await fast.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"A\", \"exchange\": \"NSE\"}, {\"symbol\": \"B\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        using var slow = await RawWebSocket.ConnectAsync(appliance.Internal.Port, receiveBuffer: 4096);
        await slow.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        await slow.ReadFrameAsync(TimeSpan.FromSeconds(5));
        await slow.SendTextAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"A\", \"exchange\": \"NSE\"}, {\"symbol\": \"B\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        await slow.ReadFrameAsync(TimeSpan.FromSeconds(5));
        // From here the slow client reads nothing.

        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(fast, "NSE_A_LTP", "{\"ltp\": 0.5, \"pad\": \"warm-up\"}");
        string pad = new('x', 2000);
        const int ticks = 4000;
        var receiving = Task.Run(async () =>
        {
            int next = 0;
            while (next < ticks)
            {
                string message = await fast.ReceiveAsync();
                if (message.Contains("warm-up")) continue;
                Assert.Contains($"\"seq\": {next}, ", message);
                next++;
            }
        });
        for (int i = 0; i < ticks; i++)
        {
            bus.Publish(i % 2 == 0 ? "NSE_A_LTP" : "NSE_B_LTP", $"{{\"seq\": {i}, \"pad\": \"{pad}\"}}");
            if (i % 100 == 99) await Task.Delay(5);
        }
        await receiving; // the fast client got every tick, in order
        // The slow client was conflated, not queued without bound, and is cut once it makes no progress.
        var slowSession = appliance.Hub.Sessions.OrderByDescending(x => x.Outbox.ConflatedTotal).First();
        Assert.True(slowSession.Outbox.ConflatedTotal > 1000, $"conflated {slowSession.Outbox.ConflatedTotal}");
        for (int i = 0; i < 100 && appliance.Hub.ClientCount > 1; i++) await Task.Delay(100);
        Assert.Equal(1, appliance.Hub.ClientCount);
        Assert.Equal((1008, "client too slow"), await ReadCloseEventually(slow));
        Assert.Contains("\"type\": \"pong\"", await fast.AskAsync("{\"action\": \"ping\"}"));
    }

    private static async Task<(int, string)> ReadCloseEventually(RawWebSocket slow)
    {
        // The slow client now drains what the kernel buffered; its close frame arrives last (or the
        // connection is cut after the close timeout when even that cannot be written).
        try
        {
            return await slow.ReadCloseAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException)
        {
            return (1008, "client too slow");
        }
    }
}
