using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using OpenAlgo.Appliance.Fuzzing;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability;

/// <summary>
/// The HTTP edge under hostile input (docs/reliability.md, "HTTP edge" and "slowloris"): malformed
/// requests, header floods, absurd Content-Length, handshake mutations, slow headers and bodies,
/// handshakes that never finish — each answered with a 4xx (or cut) by the configured Kestrel
/// limits, never a 5xx, never a hang, and the appliance keeps serving a well-behaved client.
/// </summary>
public sealed class HttpEdgeTests(ITestOutputHelper output)
{
    private const string Ws = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    private const string Key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    /// <summary>(name, raw request, statuses it may get). Each goes on a fresh TLS connection to the HTTPS listener.</summary>
    public static readonly (string Name, string Request, int[] Statuses)[] Malformed =
    [
        ("garbage request line", "GARBAGE\r\n\r\n", [400]),
        ("header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", [400]),
        ("10 KB request target", $"GET /{new string('a', 10_000)} HTTP/1.1\r\nHost: x\r\n\r\n", [414]),
        ("header count flood (500)", "GET / HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"X-H{i}: v\r\n")) + "\r\n", [431]),
        ("40 KB header", $"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 40_000)}\r\n\r\n", [431]),
        ("no Host", "GET / HTTP/1.1\r\n\r\n", [400]),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", [400]),
        ("Content-Length not a number", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", [400]),
        ("Content-Length past 2^64", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", [400]),
        ("two Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", [400]),
        ("Transfer-Encoding not chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", [400]),
        ("bad chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", [400, 404]),
        ("NUL in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", [400]),
        ("HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", [505]),
        ("absurd Content-Length on /ws", "GET /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n" + Ws + Key + "\r\n", [400, 426]),
        ("Upgrade without Sec-WebSocket-Key", "GET /ws HTTP/1.1\r\nHost: x\r\n" + Ws + "\r\n", [400]),
        ("Sec-WebSocket-Key of the wrong length", "GET /ws HTTP/1.1\r\nHost: x\r\n" + Ws + "Sec-WebSocket-Key: c2hvcnQ=\r\n\r\n", [400]),
        ("Sec-WebSocket-Key not base64", "GET /ws HTTP/1.1\r\nHost: x\r\n" + Ws + "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n\r\n", [400]),
        ("Sec-WebSocket-Version 8", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n" + Key + "\r\n", [400]),
        ("Upgrade on POST", "POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + Ws + Key + "\r\n", [426]),
        ("Upgrade on HTTP/1.0", "GET /ws HTTP/1.0\r\nHost: x\r\n" + Ws + Key + "\r\n", [426]),
        ("Upgrade: h2c", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" + Key + "\r\n", [426]),
        ("no Connection: Upgrade", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" + Key + "\r\n", [426]),
        ("unparsable extension offer", "GET /ws HTTP/1.1\r\nHost: x\r\n" + Ws + Key + "Sec-WebSocket-Extensions: permessage-deflate; =x\r\n\r\n", [400]),
    ];

    [Fact]
    public async Task Malformed_requests_and_handshake_mutations_get_the_right_4xx_and_the_edge_keeps_serving()
    {
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(services: log.Register);
        var failures = new List<string>();
        foreach (var (name, request, statuses) in Malformed)
        {
            var (status, closed) = await HttpEdge.ExchangeAsync(() => ConnectTlsAsync(appliance.Https.Port), request);
            output.WriteLine($"{name}: {status}{(closed ? ", closed" : "")}");
            if (!statuses.Contains(status)) failures.Add($"{name}: got {status}, expected {string.Join("/", statuses)}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await AssertServingAsync(appliance);
        Assert.True(log.Problems.Count == 0, string.Join("\n", log.Problems.Take(5)));
    }

    [Fact]
    public async Task Header_count_and_size_limits_are_the_configured_ones_on_the_public_and_the_internal_listener()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Http.MaxRequestHeaderCount = 20;
            o.Http.MaxRequestHeadersTotalBytes = 4096;
        });
        static string With(int headers, int padding) =>
            "GET /ws HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, headers).Select(i => $"X-H{i}: v\r\n")) + $"X-Pad: {new string('p', padding)}\r\n\r\n";
        foreach (var connect in new Func<Task<Stream>>[] { () => ConnectTlsAsync(appliance.Https.Port), () => ConnectPlainAsync(appliance.Internal.Port) })
        {
            Assert.Equal(426, (await HttpEdge.ExchangeAsync(connect, With(10, 10))).Status);   // under both: not an upgrade, answered
            Assert.Equal(431, (await HttpEdge.ExchangeAsync(connect, With(25, 10))).Status);   // 27 headers > 20 (Kestrel's default 100 would pass)
            Assert.Equal(426, (await HttpEdge.ExchangeAsync(connect, With(2, 3000))).Status);
            Assert.Equal(431, (await HttpEdge.ExchangeAsync(connect, With(2, 5000))).Status);  // > 4 KiB (the default 32 KiB would pass)
        }
    }

    [Fact]
    public async Task Random_mutations_of_a_websocket_handshake_are_answered_or_cut_never_with_a_5xx_or_a_hang()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int fixedSeed) ? fixedSeed : Random.Shared.Next(1_000_000);
        var random = new Random(seed);
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o => o.Http.RequestHeadersTimeoutSeconds = 3, services: log.Register);
        var requests = Enumerable.Range(0, 300).Select(i =>
        {
            bool tls = i % 2 == 0;
            int port = tls ? appliance.Https.Port : appliance.Internal.Port;
            return (Tls: tls, Port: port, Text: HttpEdge.Mutate(random, $"GET {(tls ? "/ws" : "/")} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{Ws}{Key}Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"));
        }).ToList();
        // 12 at a time: a head cut short waits for Http:RequestHeadersTimeoutSeconds (3 s here) before it is cut.
        using var gate = new SemaphoreSlim(12);
        var outcomes = await Task.WhenAll(requests.Select(async r =>
        {
            await gate.WaitAsync();
            try
            {
                return (await HttpEdge.ExchangeAsync(() => r.Tls ? ConnectTlsAsync(r.Port) : ConnectPlainAsync(r.Port), r.Text, Encoding.Latin1)).Status;
            }
            finally
            {
                gate.Release();
            }
        }));
        var statuses = new Dictionary<int, int>();
        var failures = new List<string>();
        for (int i = 0; i < requests.Count; i++)
        {
            int status = outcomes[i];
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            // 0: the connection was cut without an answer (a head that never ends: RequestHeadersTimeout); -1: neither answered nor cut in 30 s.
            bool fine = status is 0 or 101 or 505 || status is >= 400 and < 500;
            if (!fine) failures.Add($"seed {seed} (replay: FUZZ_SEED={seed}) #{i}: {status} for {requests[i].Text.Replace("\r\n", "⏎", StringComparison.Ordinal)}");
        }
        output.WriteLine($"seed {seed}: " + string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} ×{kv.Value}")));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        await AssertServingAsync(appliance);
        Assert.True(log.Problems.Count == 0, string.Join("\n", log.Problems.Take(5)));
    }

    [Fact]
    public async Task Slowloris_headers_and_unfinished_tls_handshakes_are_cut_at_the_configured_limits_while_clients_are_served()
    {
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Http.RequestHeadersTimeoutSeconds = 2;
            o.Http.TlsHandshakeTimeoutSeconds = 2;
        });
        var sockets = new List<Socket>();
        try
        {
            // 30 TLS connections trickling a request head, a byte every 300 ms (it would take minutes to finish)...
            var drips = Enumerable.Range(0, 30).Select(async _ =>
            {
                var tls = await ConnectTlsAsync(appliance.Https.Port);
                byte[] head = Encoding.ASCII.GetBytes($"GET /ws HTTP/1.1\r\nHost: x\r\n{Ws}{Key}X-Pad: {new string('p', 2000)}\r\n\r\n");
                var started = DateTime.UtcNow;
                try
                {
                    foreach (byte b in head)
                    {
                        await tls.WriteAsync(new[] { b });
                        await tls.FlushAsync();
                        await Task.Delay(300);
                        if (DateTime.UtcNow - started > TimeSpan.FromSeconds(90)) return "never cut";
                    }
                    return "sent it all";
                }
                catch (IOException)
                {
                    // Kestrel's own default is 30 s: a cut well before it is the configured limit at work.
                    return DateTime.UtcNow - started < TimeSpan.FromSeconds(20) ? "cut" : $"cut only after {DateTime.UtcNow - started}";
                }
                finally
                {
                    await tls.DisposeAsync();
                }
            }).ToList();
            // ...and 30 TCP connections to the TLS port that never send a ClientHello, and 10 that stop halfway through one.
            for (int i = 0; i < 40; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, appliance.Https.Port);
                if (i >= 30) await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 });
                sockets.Add(socket);
            }
            // How long each lasts before the server drops it (null: still open after 60 s).
            var drops = sockets.Select(async socket =>
            {
                var since = DateTime.UtcNow;
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                var buffer = new byte[1024];
                try
                {
                    while (await socket.ReceiveAsync(buffer, cts.Token) > 0)
                    {
                    }
                }
                catch (SocketException)
                {
                }
                catch (OperationCanceledException)
                {
                    return (TimeSpan?)null;
                }
                return DateTime.UtcNow - since;
            }).ToList();

            // Meanwhile a real client connects, authenticates and is answered.
            await AssertServingAsync(appliance);

            Assert.All(await Task.WhenAll(drips), outcome => Assert.Equal("cut", outcome));
            // Kestrel's default HandshakeTimeout is 10 s: a drop well before it is the configured 2 s at work.
            Assert.All(await Task.WhenAll(drops), lasted => Assert.True(lasted < TimeSpan.FromSeconds(8), $"an unfinished TLS handshake lasted {lasted?.ToString() ?? "over 60 s"}"));
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
        await AssertServingAsync(appliance);
    }

    [Fact]
    public async Task A_slow_request_body_is_cut_an_absurd_one_is_refused_at_once_and_a_normal_upload_goes_through()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        // 1000 B/s (the default, 240, is also Kestrel's own): 400 B/s passes Kestrel's default, not this.
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Proxy.Upstream = upstream.Address;
            o.Http.MinRequestBodyBytesPerSecond = 1000;
        }, source: "Simulated");

        // 100 KB declared, 400 bytes a second: below Http:MinRequestBodyBytesPerSecond after the 5 s grace.
        var tls = await ConnectTlsAsync(appliance.Https.Port);
        await tls.WriteAsync(Encoding.ASCII.GetBytes("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
        await tls.FlushAsync();
        string outcome = "never cut";
        var started = DateTime.UtcNow;
        try
        {
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(120))
            {
                await tls.WriteAsync(new byte[100]);
                await tls.FlushAsync();
                await Task.Delay(250);
            }
        }
        catch (IOException)
        {
            outcome = "cut";
        }
        await tls.DisposeAsync();
        Assert.Equal("cut", outcome);
        Assert.True(DateTime.UtcNow - started > TimeSpan.FromSeconds(4), "cut before the grace period");

        // A declared body far past Proxy:MaxRequestBodyBytes: 413 before a byte of it is read or forwarded.
        var (status, _) = await HttpEdge.ExchangeAsync(() => ConnectTlsAsync(appliance.Https.Port), "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n");
        Assert.Equal(413, status);

        using var https = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{appliance.Https.Port}"),
        };
        using var response = await https.PostAsync("/upload", new ByteArrayContent(new byte[500_000]));
        Assert.Equal("500000", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Completed);
    }

    [Fact]
    public async Task A_tls_handshake_flood_leaves_the_listener_serving()
    {
        await using var appliance = await TestAppliance.StartAsync();
        int ok = 0, failed = 0;
        // 400 full handshakes, 50 at a time, each closed at once.
        for (int round = 0; round < 8; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
            {
                try
                {
                    await using var tls = await ConnectTlsAsync(appliance.Https.Port);
                    return true;
                }
                catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException)
                {
                    return false;
                }
            }));
            ok += results.Count(r => r);
            failed += results.Count(r => !r);
        }
        output.WriteLine($"handshakes: {ok} completed, {failed} failed");
        Assert.Equal(400, ok);
        await AssertServingAsync(appliance);
    }

    // ---- helpers ----

    private static async Task AssertServingAsync(TestAppliance appliance)
    {
        await using var client = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await client.AuthenticateAsync();
        Assert.Contains("\"type\": \"pong\"", await client.AskAsync("{\"action\": \"ping\"}"));
    }

    private static async Task<Stream> ConnectTlsAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cts.Token);
        return tls;
    }

    private static async Task<Stream> ConnectPlainAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        return tcp.GetStream();
    }

    /// <summary>A stand-in for the Flask app that reads whole request bodies and answers their length.</summary>
    private sealed class EchoUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _completed;

        private EchoUpstream(WebApplication app) => _app = app;

        public string Address => $"http://127.0.0.1:{new Uri(_app.Urls.First()).Port}";
        public int Completed => Volatile.Read(ref _completed);

        public static async Task<EchoUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var upstream = new EchoUpstream(app);
            app.Run(async context =>
            {
                long total = 0;
                var buffer = new byte[65536];
                int n;
                while ((n = await context.Request.Body.ReadAsync(buffer)) > 0) total += n;
                Interlocked.Increment(ref upstream._completed);
                await context.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
            });
            await app.StartAsync();
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
