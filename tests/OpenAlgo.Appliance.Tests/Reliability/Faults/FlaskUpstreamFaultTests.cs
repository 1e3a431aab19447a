using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using OpenAlgo.Appliance.Tests.Proxy;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// OpenAlgo's Flask app (the real Flask-SocketIO test app under eventlet, as gunicorn runs it)
/// killed with SIGKILL and started again on the same port, with no restart of the appliance
/// (docs/reliability.md, "Flask upstream down and back"). While it is down every page request gets
/// the appliance's own 502 page at once — never a hang —; a Socket.IO client (python3-socketio,
/// reconnecting, over each transport) sees the disconnect and is back, with messages both ways,
/// soon after the app is; a <c>/ws</c> client gets every tick in order throughout. Times to the
/// 502s and to recovery go to the test output.
/// </summary>
public sealed class FlaskUpstreamFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Flask_killed_and_restarted_gives_quick_502s_and_socket_io_and_pages_recover_while_ws_streams_on()
    {
        using var app = await FlaskApp.StartTcpAsync();
        var log = new LogCapture();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Proxy.Upstream = app.Upstream;
            o.Tls.Domains = ["localhost"]; // the pages' origin, https://localhost:PORT, is this site's
        }, services: log.Register);
        using var https = FlaskProxyTests.Https(appliance);
        Assert.Equal("flask:/dashboard", await https.GetStringAsync("/dashboard"));
        string session;
        using (var login = await https.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "tester" })))
        {
            session = login.Headers.GetValues("Set-Cookie").First().Split(';')[0];
        }

        var ws = await WsTestClient.ConnectAsync(appliance.PublicUri);
        await ws.AuthenticateAsync();
        await ws.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"FLASKDOWN\", \"exchange\": \"NSE\", \"mode\": 1}");
        await using var feed = new TickRecorder(ws, "before");
        using var publisher = BusPublisherFaultTests.StartPublisher(appliance.ZmqEndpoint, "NSE_FLASKDOWN_LTP", 0, 200);
        var socketIo = new[] { SocketIo.Start(appliance.Https.Port, "websocket"), SocketIo.Start(appliance.Https.Port, "polling") };
        try
        {
            await Eventually.TrueAsync(() => feed.Count > 0, "ticks on /ws", TimeSpan.FromSeconds(30));
            foreach (var client in socketIo) await client.WaitForAsync("echo", 0, TimeSpan.FromSeconds(60));

            // Down: SIGKILL, as a crashed gunicorn vanishes.
            feed.Phase = "flask down";
            var killedAt = DateTimeOffset.UtcNow;
            app.Stop();
            var answers = new List<TimeSpan>();
            for (int i = 0; i < 20; i++)
            {
                var sw = Stopwatch.StartNew();
                using var down = await https.GetAsync(i % 2 == 0 ? "/dashboard" : "/api/v1/quotes");
                answers.Add(sw.Elapsed);
                Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
                Assert.Equal("text/plain; charset=utf-8", down.Content.Headers.ContentType!.ToString());
                Assert.Equal("502 Bad Gateway\n\nOpenAlgo is not answering behind this server. Try again in a moment.\n", await down.Content.ReadAsStringAsync());
                await Task.Delay(100);
            }
            // A logged-in page's Socket.IO handshake while the app is down: 502 too, not a hang.
            var handshake = Stopwatch.StartNew();
            using (var request = new HttpRequestMessage(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling"))
            {
                request.Headers.Add("Cookie", session);
                request.Headers.Add("Origin", $"https://localhost:{appliance.Https.Port}");
                using var sio = await https.SendAsync(request);
                Assert.Equal(HttpStatusCode.BadGateway, sio.StatusCode);
            }
            var handshakeAnswer = handshake.Elapsed;
            foreach (var client in socketIo) await client.WaitForAsync("disconnect", 0, TimeSpan.FromSeconds(30));
            await Task.Delay(1000);

            // Back: the app starts again on its port (systemd's Restart=always); the appliance is not touched.
            feed.Phase = "after";
            var restart = Stopwatch.StartNew();
            await app.StartAsync();
            var listening = restart.Elapsed;
            var restartedAt = DateTimeOffset.UtcNow;
            TimeSpan? firstOk = null;
            while (firstOk is null && restart.Elapsed < TimeSpan.FromSeconds(30))
            {
                using var response = await https.GetAsync("/dashboard");
                if (response.StatusCode == HttpStatusCode.OK) firstOk = restart.Elapsed;
                else await Task.Delay(20);
            }
            Assert.NotNull(firstOk);
            Assert.Equal("flask:/dashboard", await https.GetStringAsync("/dashboard"));
            var socketIoBack = new List<string>();
            foreach (var client in socketIo)
            {
                double echo = await client.WaitForAsync("echo", 1, TimeSpan.FromSeconds(60));
                socketIoBack.Add($"{client.Transport} {(echo - restartedAt.ToUnixTimeMilliseconds() / 1000.0) * 1000:0} ms after the app listened");
            }
            await Task.Delay(1000);
            await feed.StopAsync();

            output.WriteLine($"while down: 20 page requests answered 502 in {answers.Min().TotalMilliseconds:0.0}–{answers.Max().TotalMilliseconds:0.0} ms (median {answers.Order().ElementAt(10).TotalMilliseconds:0.0} ms); a Socket.IO handshake 502 in {handshakeAnswer.TotalMilliseconds:0.0} ms");
            output.WriteLine($"restart: app listening after {listening.TotalMilliseconds:0} ms, first 200 through the appliance {(firstOk.Value - listening).TotalMilliseconds:0} ms after that");
            output.WriteLine("Socket.IO reconnected with an echo: " + string.Join("; ", socketIoBack));
            var during = feed.Latency("flask down");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"/ws: {feed.Count} ticks in order, {during.Count} while the app was down, p50 {during.P50:0.00} ms, p99 {during.P99:0.00} ms; killed at {killedAt:HH:mm:ss.fff}"));

            Assert.Null(feed.Ended);
            Assert.Empty(feed.Gaps);
            Assert.True(during.Count > 100, $"{during.Count} ticks while the app was down");
            Assert.All(answers, a => Assert.True(a < TimeSpan.FromSeconds(10), $"a 502 took {a}"));
            Assert.True(log.Contains($"Flask app {app.Upstream} failed GET /dashboard"), string.Join('\n', log.Lines));
            Assert.DoesNotContain(log.Problems, p => p.Contains("[ERR]", StringComparison.Ordinal) || p.Contains("Exception", StringComparison.Ordinal) && !p.Contains("Flask app", StringComparison.Ordinal));
        }
        finally
        {
            try { publisher.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            foreach (var client in socketIo) client.Dispose();
        }
    }

    /// <summary>socketio_reconnecting_client.py as a child process; its event lines, read as they come.</summary>
    private sealed class SocketIo : IDisposable
    {
        private readonly Process _process;
        private readonly List<(string Event, double At)> _events = [];
        private readonly System.Text.StringBuilder _stderr = new();
        private string? _first;

        private SocketIo(Process process, string transport)
        {
            _process = process;
            Transport = transport;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_events) _first ??= e.Data;
                try
                {
                    var json = JsonDocument.Parse(e.Data).RootElement;
                    lock (_events) _events.Add((json.GetProperty("event").GetString()!, json.GetProperty("t").GetDouble()));
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    // Not an event line: kept in _first for the failure message; never an exception on the reader's thread.
                }
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Transport { get; }

        public static SocketIo Start(int httpsPort, string transport)
        {
            var start = new ProcessStartInfo(Python.Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Reliability", "Faults", "socketio_reconnecting_client.py"));
            start.ArgumentList.Add($"https://127.0.0.1:{httpsPort}");
            start.ArgumentList.Add(transport);
            start.ArgumentList.Add($"https://localhost:{httpsPort}");
            return new SocketIo(Process.Start(start)!, transport);
        }

        /// <summary>The wall-clock time (Unix seconds) of the <paramref name="index"/>-th <paramref name="name"/> event (0-based).</summary>
        public async Task<double> WaitForAsync(string name, int index, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                lock (_events)
                {
                    var matching = _events.Where(e => e.Event == name).ToList();
                    if (matching.Count > index) return matching[index].At;
                }
                await Task.Delay(50);
            }
            string seen;
            lock (_events) seen = $"{_events.Count}: {string.Join(", ", _events.Select(e => e.Event).Distinct())}; first: {_first}";
            lock (_stderr) throw new TimeoutException($"{Transport}: no {name} #{index + 1}; events: {seen}; stderr: {_stderr}");
        }

        public void Dispose()
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.WaitForExit(5000);
            _process.Dispose();
        }
    }
}
