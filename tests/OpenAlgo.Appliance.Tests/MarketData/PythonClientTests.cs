using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>
/// The OpenAlgo Python SDK talks through websocket-client (Debian python3-websocket): the same
/// library, with the SDK's own calls and keepalive settings, against both doors.
/// </summary>
public sealed class PythonClientTests
{
    private const string Script = """
import json, ssl, sys, threading, time, websocket
url = sys.argv[1]
ws = websocket.create_connection(url, sslopt={"cert_reqs": ssl.CERT_NONE}, timeout=10)
ws.send(json.dumps({"action": "authenticate", "api_key": "testkey"}))
auth = json.loads(ws.recv())
assert auth["type"] == "auth" and auth["status"] == "success", auth
ws.send(json.dumps({"action": "subscribe", "symbols": [{"symbol": "RELIANCE", "exchange": "NSE"}], "mode": 1, "depth": 5}))
ack = json.loads(ws.recv())
assert ack["status"] == "success" and ack["subscriptions"][0]["mode"] == "LTP", ack
print("READY", flush=True)
while True:
    msg = json.loads(ws.recv())
    if msg.get("type") == "market_data" and msg["mode"] == 1 and "ltp" in msg["data"]:
        print("TICK", msg["exchange"] + ":" + msg["symbol"], msg["data"]["ltp"], flush=True)
        break
ws.ping("sdk")
ws.send(json.dumps({"action": "unsubscribe", "symbols": [{"symbol": "RELIANCE", "exchange": "NSE", "mode": 1}]}))
while True:
    msg = json.loads(ws.recv())
    if msg.get("type") == "unsubscribe":
        print("UNSUB", msg["status"], flush=True)
        break
ws.close()
""";

    [Theory]
    [InlineData("internal")]
    [InlineData("public")]
    public async Task Websocket_client_library_used_by_the_sdk_works_unchanged(string door)
    {
        await using var appliance = await TestAppliance.StartAsync();
        await RunSdkScriptAsync(door == "internal" ? appliance.InternalUri : appliance.PublicUri, appliance.ZmqEndpoint);
    }

    /// <summary>Runs the script against <paramref name="uri"/>, publishing ticks on <paramref name="bus"/> until it has one (ZeroMQ slow joiner) or finishes.</summary>
    private static async Task RunSdkScriptAsync(Uri uri, string busEndpoint)
    {
        var python = Task.Run(() => Python.Run(Script.Replace("sys.argv[1]", $"'{uri}'"), timeoutSeconds: 60));
        using var bus = new BusPublisher(busEndpoint);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!python.IsCompleted && DateTime.UtcNow < deadline)
        {
            bus.Publish("NSE_RELIANCE_LTP", "{\"ltp\": 1418.4, \"timestamp\": 1}");
            await Task.Delay(100);
        }
        string output = await python;
        Assert.Contains("TICK NSE:RELIANCE 1418.4", output);
        Assert.Contains("UNSUB success", output);
    }

    [Fact]
    public async Task Websocket_client_works_unchanged_through_the_OpenAlgo_upstream_mode()
    {
        int port = TestAppliance.FreeTcpPort();
        await using var origin = await TestAppliance.StartAsync(o => o.Listen.Internal = $"127.0.0.1:{port}");
        await using var front = await TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{port}";
        }, source: "OpenAlgo");
        await RunSdkScriptAsync(front.PublicUri, origin.ZmqEndpoint);
    }
}
