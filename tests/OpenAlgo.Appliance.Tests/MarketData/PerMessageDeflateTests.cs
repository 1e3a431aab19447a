using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>
/// permessage-deflate (RFC 7692) on both doors, driven by Python websockets (Debian
/// python3-websockets: the library OpenAlgo's own proxy is built on, which offers the extension by
/// default) and by .NET's ClientWebSocket, plus raw sockets for what no library sends.
/// </summary>
public sealed class PerMessageDeflateTests
{
    public static TheoryData<string> Doors => ["internal", "public"];

    private static Uri Door(TestAppliance appliance, string door) => door == "internal" ? appliance.InternalUri : appliance.PublicUri;

    public const string LtpTick = "{\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}";
    public const string QuoteTick = "{\"ltp\": 1523.5, \"ltt\": 1746171226000, \"volume\": 123789, \"open\": 1512.5, \"high\": 1531.75, \"low\": 1509.9, \"close\": 1515.25, \"last_quantity\": 25, \"average_price\": 1516.37, \"total_buy_quantity\": 45000, \"total_sell_quantity\": 52000, \"symbol\": \"INFY\", \"exchange\": \"NSE\", \"mode\": 2, \"timestamp\": 1746171226123}";
    public static readonly string DepthTick = BuildDepthTick();

    private static string BuildDepthTick()
    {
        string[] bids = ["3418.35", "3418.25", "3418.15", "3418.05", "3417.95"], asks = ["3418.45", "3418.55", "3418.65", "3418.75", "3418.85"];
        var text = new StringBuilder("{\"ltp\": 3418.4, \"ltt\": 1746171226000, \"depth\": {\"buy\": [");
        for (int l = 0; l < 5; l++) text.Append(l > 0 ? ", " : "").Append($"{{\"price\": {bids[l]}, \"quantity\": {100 * (l + 1)}, \"orders\": {l + 1}}}");
        text.Append("], \"sell\": [");
        for (int l = 0; l < 5; l++) text.Append(l > 0 ? ", " : "").Append($"{{\"price\": {asks[l]}, \"quantity\": {120 * (l + 1)}, \"orders\": {l + 2}}}");
        return text.Append("]}, \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 3, \"timestamp\": 1746171226123}").ToString();
    }

    // Authenticates, subscribes LTP / Quote / Depth and 300 more symbols (a ~15 KB message, which
    // the client compresses too), waits for one tick of each mode, unsubscribes, and prints every
    // message it received except ticks after the first of each mode, in a fixed order.
    private const string Script = """
import asyncio, json, ssl, sys, websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
url, variant = sys.argv[1], sys.argv[2]
ctx = None
if url.startswith("wss:"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
kw = {"compression": None} if variant == "plain" else {}
if variant == "nocontext":
    kw["extensions"] = [ClientPerMessageDeflateFactory(client_no_context_takeover=True, server_max_window_bits=9)]
async def main():
    async with websockets.connect(url, ssl=ctx, max_size=2**20, **kw) as ws:
        print("EXT", ws.response_headers.get("Sec-WebSocket-Extensions"), [repr(e) for e in ws.extensions], flush=True)
        async def ask(request):
            await ws.send(json.dumps(request))
            while True:
                reply = await ws.recv()
                if json.loads(reply)["type"] != "market_data":
                    print("MSG", reply, flush=True)
                    return
        await ask({"action": "authenticate", "api_key": "testkey"})
        await ask({"action": "subscribe", "symbols": [{"symbol": "RELIANCE", "exchange": "NSE"}], "mode": "LTP"})
        await ask({"action": "subscribe", "symbols": [{"symbol": "INFY", "exchange": "NSE"}], "mode": "Quote"})
        await ask({"action": "subscribe", "symbols": [{"symbol": "TCS", "exchange": "NSE"}], "mode": "Depth", "depth": 5})
        await ask({"action": "subscribe", "symbols": [{"symbol": "SYMBOL%d" % i, "exchange": "NSE"} for i in range(300)], "mode": 1, "request_id": "bulk"})
        ticks = {}
        while len(ticks) < 3:
            msg = await ws.recv()
            if json.loads(msg)["type"] == "market_data":
                ticks.setdefault(json.loads(msg)["mode"], msg)
        for mode in sorted(ticks):
            print("TICK", ticks[mode], flush=True)
        await ask({"action": "get_broker_info"})
        await ask({"action": "unsubscribe_all"})
asyncio.run(main())
""";

    [Theory]
    [MemberData(nameof(Doors))]
    public async Task Python_websockets_gets_the_same_messages_compressed_as_uncompressed(string door)
    {
        await using var appliance = await TestAppliance.StartAsync();
        var uri = Door(appliance, door);

        string plain = await RunScriptAsync(appliance, uri, "plain");
        Assert.Equal(0, appliance.Hub.FramesCompressed);
        Assert.Contains("EXT None []", plain);

        string compressed = await RunScriptAsync(appliance, uri, "default");
        Assert.Contains("EXT permessage-deflate; server_no_context_takeover ['PerMessageDeflate(remote_no_context_takeover=True, local_no_context_takeover=False, remote_max_window_bits=15, local_max_window_bits=15)']", compressed);
        Assert.True(appliance.Hub.FramesCompressed >= 3, $"{appliance.Hub.FramesCompressed} frames compressed");

        // The client resets its context per message and asks for a 512-byte window: the 720-byte
        // Depth tick then goes out uncompressed, LTP and Quote compressed; Python takes both.
        string noContext = await RunScriptAsync(appliance, uri, "nocontext");
        Assert.Contains("EXT permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9 ['PerMessageDeflate(remote_no_context_takeover=True, local_no_context_takeover=True, remote_max_window_bits=9, local_max_window_bits=15)']", noContext);

        string Messages(string output) => string.Join('\n', output.Split('\n').Where(l => !l.StartsWith("EXT ")));
        Assert.Equal(Messages(plain), Messages(compressed));
        Assert.Equal(Messages(plain), Messages(noContext));
        Assert.Contains("TICK {\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": " + LtpTick + ", \"broker\": \"fakebroker\"}", plain);
        Assert.Contains("TICK {\"type\": \"market_data\", \"symbol\": \"INFY\", \"exchange\": \"NSE\", \"mode\": 2, \"data\": " + QuoteTick + ", \"broker\": \"fakebroker\"}", plain);
        Assert.Contains("TICK {\"type\": \"market_data\", \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 3, \"data\": " + DepthTick + ", \"broker\": \"fakebroker\"}", plain);
        Assert.Contains("\"request_id\": \"bulk\"", plain);
        Assert.Equal(10, Messages(plain).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(Encoding.UTF8.GetByteCount(Message("TCS", 3, DepthTick)) > 512);
    }

    private static string Message(string symbol, int mode, string data, string broker = "fakebroker") =>
        $"{{\"type\": \"market_data\", \"symbol\": \"{symbol}\", \"exchange\": \"NSE\", \"mode\": {mode}, \"data\": {data}, \"broker\": \"{broker}\"}}";

    [Fact]
    public async Task On_the_wire_ticks_carry_rsv1_and_replies_and_control_frames_do_not()
    {
        await using var appliance = await TestAppliance.StartAsync();
        // A 512-byte window: the Depth tick is longer, so it must come uncompressed.
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port,
            extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9; client_max_window_bits\r\n");
        Assert.Contains("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=9\r\n", raw.HandshakeResponse);

        var client = new ContextKeepingCompressor(); // one compressor for the whole connection, as browsers do
        async Task<string> AskAsync(string request)
        {
            await raw.SendFrameAsync(0x1, client.Compress(request), rsv: 0x40);
            var reply = (await raw.ReadFrameWithFlagsAsync(TimeSpan.FromSeconds(10)))!.Value;
            Assert.Equal(0x81, reply.First); // FIN + text, RSV1 clear: replies go uncompressed
            return Encoding.UTF8.GetString(reply.Payload);
        }
        Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", await AskAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"));
        Assert.Contains("\"mode\": \"LTP\"", await AskAsync("{\"action\": \"subscribe\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1}"));
        // The same words again: the client's compressor refers back into the previous message.
        Assert.Contains("\"mode\": \"Depth\"", await AskAsync("{\"action\": \"subscribe\", \"symbol\": \"TCS\", \"exchange\": \"NSE\", \"mode\": 3}"));

        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        string? ltp = null, depth = null;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((ltp is null || depth is null) && DateTime.UtcNow < deadline)
        {
            bus.Publish("NSE_RELIANCE_LTP", LtpTick);
            bus.Publish("NSE_TCS_DEPTH", DepthTick);
            try
            {
                while (await raw.ReadFrameWithFlagsAsync(TimeSpan.FromMilliseconds(200)) is { } frame)
                {
                    if (frame.First == 0xC1) ltp = Inflate(frame.Payload);  // FIN + RSV1 + text
                    else if (frame.First == 0x81) depth = Encoding.UTF8.GetString(frame.Payload);
                    else Assert.Fail($"unexpected frame 0x{frame.First:X2}");
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        Assert.Equal(Message("RELIANCE", 1, LtpTick), ltp);
        Assert.Equal(Message("TCS", 3, DepthTick), depth);

        // Control frames are never compressed (RFC 7692 §6.1).
        await raw.SendFrameAsync(0x9, "still here"u8.ToArray());
        while (true)
        {
            var frame = (await raw.ReadFrameWithFlagsAsync(TimeSpan.FromSeconds(10)))!.Value;
            if ((frame.First & 0x0F) == 0x1) continue; // a late tick
            Assert.Equal(0x8A, frame.First);
            Assert.Equal("still here", Encoding.UTF8.GetString(frame.Payload));
            break;
        }
    }

    public static TheoryData<string, int, string> Violations => new()
    {
        { "rsv1 on a control frame", 1002, "reserved bits must be 0" },
        { "rsv1 on a continuation frame", 1002, "reserved bits must be 0" },
        { "rsv2", 1002, "reserved bits must be 0" },
        { "not deflate", 1002, "decompression failed" },
        { "compression bomb", 1009, "over size limit (? > 1048576 bytes)" },
        { "rsv1 without the extension", 1002, "reserved bits must be 0" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task Bad_compressed_frames_close_the_connection_and_nothing_else(string what, int code, string reason)
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port,
            extraHeaders: what == "rsv1 without the extension" ? "" : "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        var client = new ContextKeepingCompressor();
        await raw.SendFrameAsync(0x1, client.Compress("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}"), rsv: 0x40);
        if (what != "rsv1 without the extension")
        {
            // Well-formed compressed messages are answered first.
            await raw.SendFrameAsync(0x1, client.Compress("{\"action\": \"get_broker_info\"}"), rsv: 0x40);
            for (int i = 0; i < 2; i++)
            {
                var reply = (await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value;
                Assert.True(reply.Opcode == 0x1, $"{reply.Opcode}: {Encoding.UTF8.GetString(reply.Payload)}");
            }
        }
        switch (what)
        {
            case "rsv1 on a control frame":
                await raw.SendFrameAsync(0x9, "x"u8.ToArray(), rsv: 0x40);
                break;
            case "rsv1 on a continuation frame":
                byte[] message = client.Compress("{\"action\": \"get_broker_info\"}");
                await raw.SendFrameAsync(0x1, message[..4], fin: false, rsv: 0x40);
                await raw.SendFrameAsync(0x0, message[4..], rsv: 0x40);
                break;
            case "rsv2":
                await raw.SendFrameAsync(0x1, client.Compress("{}"), rsv: 0x60);
                break;
            case "not deflate":
                await raw.SendFrameAsync(0x1, [0xff, 0xff, 0xff, 0x01, 0x02], rsv: 0x40);
                break;
            case "compression bomb":
                // 64 MiB of spaces in ~64 KiB: refused once the inflated size passes 1 MiB.
                byte[] bomb = client.Compress(new string(' ', 64 << 20));
                Assert.True(bomb.Length < 128 * 1024);
                await raw.SendFrameAsync(0x1, bomb, rsv: 0x40);
                break;
        }
        // The close frame is the next thing: no reply, no error message.
        var close = (await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value;
        Assert.Equal(0x8, close.Opcode);
        Assert.Equal(code, close.Payload[0] << 8 | close.Payload[1]);
        Assert.Equal(reason, Encoding.UTF8.GetString(close.Payload.AsSpan(2)));

        // Everyone else carries on.
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUri, new WebSocketDeflateOptions());
        await other.AuthenticateAsync();
    }

    [Fact]
    public async Task A_fragmented_compressed_message_is_inflated_whole()
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port, extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n");
        Assert.Contains("permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n", raw.HandshakeResponse);
        byte[] auth = new ContextKeepingCompressor().Compress("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        await raw.SendFrameAsync(0x1, auth[..3], fin: false, rsv: 0x40);
        await raw.SendFrameAsync(0x0, auth[3..7], fin: false);
        await raw.SendFrameAsync(0x9, "between"u8.ToArray());
        await raw.SendFrameAsync(0x0, auth[7..]);
        Assert.Equal(0xA, (await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value.Opcode);
        Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", Encoding.UTF8.GetString((await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value.Payload));
        // client_no_context_takeover: each message on its own, and an uncompressed one in between is fine too.
        await raw.SendTextAsync("{\"action\": \"get_broker_info\"}");
        Assert.Contains("broker_info", Encoding.UTF8.GetString((await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value.Payload));
        await raw.SendFrameAsync(0x1, new ContextKeepingCompressor().Compress("{\"action\": \"get_broker_info\"}"), rsv: 0x40);
        Assert.Contains("broker_info", Encoding.UTF8.GetString((await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Value.Payload));
    }

    [Theory]
    [InlineData("permessage-deflate x", "expected comma at 19 in permessage-deflate x")]
    [InlineData("permessage-deflate; server_max_window_bits=\"10", "expected quoted string at 43 in permessage-deflate; server_max_window_bits=\"10")]
    public async Task An_extension_header_that_does_not_parse_gets_400(string header, string error)
    {
        await using var appliance = await TestAppliance.StartAsync();
        foreach (int port in new[] { appliance.Internal.Port })
        {
            using var raw = await RawWebSocket.OpenAsync(port, extraHeaders: $"Sec-WebSocket-Extensions: {header}\r\nConnection: close\r\n");
            Assert.StartsWith("HTTP/1.1 400", raw.HandshakeResponse);
            Assert.Contains($"Failed to open a WebSocket connection: invalid Sec-WebSocket-Extensions header: {error}.\n", await raw.ReadToEndAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(0, appliance.Hub.ClientCount);
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; client_no_context_takeover; client_no_context_takeover")]
    [InlineData("permessage-deflate; method=zstd")]
    [InlineData("x-webkit-deflate-frame")]
    public async Task Declined_offers_connect_without_compression(string header)
    {
        await using var appliance = await TestAppliance.StartAsync();
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port, extraHeaders: $"Sec-WebSocket-Extensions: {header}\r\n");
        Assert.DoesNotContain("Sec-WebSocket-Extensions", raw.HandshakeResponse);
        await raw.SendFrameAsync(0x1, new ContextKeepingCompressor().Compress("{}"), rsv: 0x40);
        Assert.Equal((1002, "reserved bits must be 0"), await raw.ReadCloseAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_setting_turns_it_off()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.MarketData.PerMessageDeflate = false);
        // Not negotiated, and a header that does not parse is not even read (as Python websockets with compression=None).
        foreach (string header in new[] { "permessage-deflate; client_max_window_bits", "permessage-deflate x" })
        {
            using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port, extraHeaders: $"Sec-WebSocket-Extensions: {header}\r\n");
            Assert.DoesNotContain("Sec-WebSocket-Extensions", raw.HandshakeResponse);
        }
        await using var client = await WsTestClient.ConnectAsync(appliance.PublicUri, new WebSocketDeflateOptions());
        Assert.Equal("", client.Extensions);
        await client.AuthenticateAsync();
    }

    [Fact]
    public async Task A_tick_is_compressed_once_per_mode_and_broker_whatever_the_number_of_recipients()
    {
        await using var appliance = await TestAppliance.StartAsync();
        var clients = new List<(WsTestClient Client, int Mode, string Broker, bool Deflate)>();
        async Task AddAsync(int count, Uri door, string key, string broker, int mode, bool deflate)
        {
            for (int i = 0; i < count; i++)
            {
                var client = await WsTestClient.ConnectAsync(door, deflate ? new WebSocketDeflateOptions() : null);
                Assert.Equal(deflate ? "permessage-deflate; server_no_context_takeover" : "", client.Extensions);
                await client.AuthenticateAsync(key);
                Assert.Contains("\"status\": \"success\"", await client.AskAsync($"{{\"action\": \"subscribe\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": {mode}}}"));
                clients.Add((client, mode, broker, deflate));
            }
        }
        try
        {
            // Three distinct compressed outputs per Quote tick: (LTP, fakebroker), (Quote, fakebroker), (LTP, zerodha).
            await AddAsync(4, appliance.InternalUri, "testkey", "fakebroker", 1, deflate: true);
            await AddAsync(4, appliance.PublicUri, "testkey", "fakebroker", 1, deflate: true);
            await AddAsync(3, appliance.PublicUri, "testkey", "fakebroker", 2, deflate: true);
            await AddAsync(3, appliance.InternalUri, "otherkey", "zerodha", 1, deflate: true);
            await AddAsync(2, appliance.InternalUri, "testkey", "fakebroker", 1, deflate: false);
            await AddAsync(1, appliance.PublicUri, "testkey", "fakebroker", 2, deflate: false);

            const string quote = "{\"ltp\": 1418.4, \"volume\": 1234, \"open\": 1410.0, \"high\": 1420.5, \"low\": 1405.25, \"close\": 1412.0, \"timestamp\": 1746171226123}";
            using var bus = new BusPublisher(appliance.ZmqEndpoint);
            // Until every client has a tick (ZeroMQ slow joiner), then 20 more ticks.
            foreach (var (client, mode, broker, _) in clients)
            {
                string expected = $"{{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": {mode}, \"data\": {quote}, \"broker\": \"{broker}\"}}";
                Assert.Equal(expected, clients[0].Client == client ? await bus.PublishUntilReceivedAsync(client, "NSE_RELIANCE_QUOTE", quote) : await client.ReceiveAsync());
            }
            for (int i = 0; i < 20; i++) bus.Publish("NSE_RELIANCE_QUOTE", quote);
            foreach (var (client, mode, broker, _) in clients)
            {
                // Identical text whether it came compressed or not.
                string expected = $"{{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": {mode}, \"data\": {quote}, \"broker\": \"{broker}\"}}";
                while (true)
                {
                    try
                    {
                        Assert.Equal(expected, await client.ReceiveAsync(TimeSpan.FromSeconds(1)));
                    }
                    catch (TimeoutException)
                    {
                        break;
                    }
                }
            }
            Assert.True(appliance.Hub.TicksIn >= 21, $"{appliance.Hub.TicksIn} ticks");
            Assert.Equal(3 * appliance.Hub.TicksIn, appliance.Hub.FramesCompressed);
            Assert.Equal(clients.Count * appliance.Hub.TicksIn, appliance.Hub.FramesOut);
        }
        finally
        {
            foreach (var (client, _, _, _) in clients) await client.DisposeAsync();
        }
    }

    private static string Inflate(byte[] payload)
    {
        using var input = new MemoryStream([.. payload, 0x00, 0x00, 0xFF, 0xFF]);
        using var inflate = new System.IO.Compression.DeflateStream(input, System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(inflate, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>A client-side permessage-deflate compressor that keeps its window across messages (browsers, Python websockets).</summary>
    private sealed class ContextKeepingCompressor
    {
        private readonly MemoryStream _wire = new();
        private readonly System.IO.Compression.DeflateStream _deflate;

        public ContextKeepingCompressor() => _deflate = new(_wire, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true);

        public byte[] Compress(string text)
        {
            _wire.SetLength(0);
            _deflate.Write(Encoding.UTF8.GetBytes(text));
            _deflate.Flush();
            byte[] bytes = _wire.ToArray();
            Assert.Equal([0x00, 0x00, 0xFF, 0xFF], bytes[^4..]);
            return bytes[..^4];
        }
    }

    /// <summary>Runs the script, publishing the three ticks on the bus until it finishes (ZeroMQ slow joiner).</summary>
    private static async Task<string> RunScriptAsync(TestAppliance appliance, Uri uri, string variant)
    {
        var python = Task.Run(() => Python.Run(Script.Replace("sys.argv[1], sys.argv[2]", $"'{uri}', '{variant}'"), timeoutSeconds: 60));
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (!python.IsCompleted && DateTime.UtcNow < deadline)
        {
            bus.Publish("NSE_RELIANCE_LTP", LtpTick);
            bus.Publish("NSE_INFY_QUOTE", QuoteTick);
            bus.Publish("NSE_TCS_DEPTH", DepthTick);
            await Task.Delay(50);
        }
        return await python;
    }
}
