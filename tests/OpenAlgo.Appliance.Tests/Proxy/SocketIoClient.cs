using System.Text.Json;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>
/// A real Socket.IO client: Debian's python3-socketio (engine.io client over requests and
/// websocket-client), run under /usr/bin/python3 against the appliance's HTTPS listener.
/// </summary>
internal static class SocketIoClient
{
    public sealed record Result(bool Connected, string? Transport, string? Hello, string? Echo, string? Error);

    private const string ClientScript = """
        import json, sys, threading
        import requests, socketio, urllib3, websocket
        urllib3.disable_warnings()
        args = json.loads(sys.stdin.read())
        base = args["url"]
        headers = {}
        if args.get("origin"):
            headers["Origin"] = args["origin"]
            # A browser sends exactly one Origin; websocket-client adds its own http://host:port
            # unless told not to, so the one given here replaces it.
            _create = websocket.create_connection
            def create(url, **kw):
                kw["suppress_origin"] = True
                return _create(url, **kw)
            websocket.create_connection = create
        http = requests.Session()
        http.verify = False
        http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify=False
        if args.get("login"):
            r = http.post(base + "/login", data={"user": "tester"})
            r.raise_for_status()
        client = socketio.Client(http_session=http, ssl_verify=False, reconnection=False)
        got = {}
        hello = threading.Event()
        echo = threading.Event()
        @client.on("hello")
        def on_hello(data):
            got["hello"] = data["msg"]; hello.set()
        @client.on("echo")
        def on_echo(data):
            got["echo"] = data["n"]; echo.set()
        try:
            # 30 s: under a full parallel test run on two cores the single eventlet worker has been
            # seen to take over 10 s to acknowledge the namespace (a refusal is immediate either way).
            client.connect(base, headers=headers, transports=args["transports"], wait_timeout=30)
        except socketio.exceptions.ConnectionError as e:
            print(json.dumps({"connected": False, "error": str(e)})); sys.exit(0)
        hello.wait(10)
        client.emit("echo", {"n": "ping"})
        echo.wait(10)
        transport = client.transport()
        client.disconnect()
        print(json.dumps({"connected": True, "transport": transport, "hello": got.get("hello"), "echo": got.get("echo")}))
        """;

    public static Task<Result> ConnectAsync(int httpsPort, string[] transports, string? origin = null, bool login = false) => Task.Run(() =>
    {
        string input = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["url"] = $"https://127.0.0.1:{httpsPort}",
            ["transports"] = transports,
            ["origin"] = origin,
            ["login"] = login,
        });
        string output = Python.Run(ClientScript, input, timeoutSeconds: 90);
        var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        string? Get(string name) => json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new Result(json.GetProperty("connected").GetBoolean(), Get("transport"), Get("hello"), Get("echo"), Get("error"));
    });
}
