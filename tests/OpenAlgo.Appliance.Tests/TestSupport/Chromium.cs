using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// Debian's headless Chromium, driven over the DevTools protocol (a WebSocket on a port Chromium
/// picks and writes to <c>DevToolsActivePort</c>). Flags from test-environment.md: no
/// sandbox (root in CI), no GPU, nothing fetched in the background, a throwaway profile, host
/// names mapped to loopback, the appliance's self-signed certificate accepted. Stopped by
/// <c>Browser.close</c>, then by PID.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentDictionary<string, Action<string, JsonObject>> _sessions = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly StringBuilder _output = new();
    private int _nextId;
    private Task? _pump;

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>What Chromium printed (its own diagnostics), for failure messages.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <param name="hostRules">Chromium's <c>--host-resolver-rules</c>, e.g. <c>MAP app.test 127.0.0.1</c>.</param>
    public static async Task<Chromium> StartAsync(params string[] hostRules)
    {
        string profile = Directory.CreateTempSubdirectory("oa-chromium-").FullName;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--ignore-certificate-errors",
            "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1000,700",
            "--host-resolver-rules=" + string.Join(", ", hostRules),
            // Local Network Access: every test name resolves to 127.0.0.1, which Chrome would treat
            // as a local server reached from a public page (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS
            // on WebSockets). On a real VPS the app and the pages are all public addresses, so the
            // checks are off to let the browser behave as it does there.
            "--disable-features=LocalNetworkAccessChecks,LocalNetworkAccessChecksWebSockets",
            "about:blank",
        })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        var browser = new Chromium(process, profile);
        process.OutputDataReceived += (_, e) => browser.Append(e.Data);
        process.ErrorDataReceived += (_, e) => browser.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await browser.ConnectAsync();
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
        return browser;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private async Task ConnectAsync()
    {
        string portFile = Path.Combine(_profile, "DevToolsActivePort");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string[] lines = [];
        while (lines.Length < 2)
        {
            if (_process.HasExited) throw new InvalidOperationException($"chromium exited ({_process.ExitCode}):\n{Output}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"chromium wrote no DevToolsActivePort:\n{Output}");
            await Task.Delay(100);
            try
            {
                if (File.Exists(portFile)) lines = (await File.ReadAllTextAsync(portFile)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
            }
        }
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _socket.ConnectAsync(new Uri($"ws://127.0.0.1:{lines[0].Trim()}{lines[1].Trim()}"), timeout.Token);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>A new tab, attached (flat session), with Page, Runtime and Network events on.</summary>
    public async Task<ChromiumPage> NewPageAsync()
    {
        var created = await SendAsync(null, "Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        var attached = await SendAsync(null, "Target.attachToTarget", new JsonObject { ["targetId"] = created["targetId"]!.GetValue<string>(), ["flatten"] = true });
        string session = attached["sessionId"]!.GetValue<string>();
        var page = new ChromiumPage(this, session, created["targetId"]!.GetValue<string>());
        _sessions[session] = page.OnEvent;
        await SendAsync(session, "Page.enable", []);
        await SendAsync(session, "Runtime.enable", []);
        await SendAsync(session, "Network.enable", []);
        return page;
    }

    /// <summary>One DevTools command; throws with Chromium's message when it answers an error.</summary>
    internal async Task<JsonObject> SendAsync(string? session, string method, JsonObject parameters, TimeSpan? timeout = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        if (session is not null) message["sessionId"] = session;
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            var reply = await answer.Task.WaitAsync(cts.Token);
            if (reply["error"] is JsonObject error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
            return reply["result"] as JsonObject ?? [];
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"chromium did not answer {method}:\n{Output}");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task PumpAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var json = JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length)) as JsonObject;
                message.SetLength(0);
                if (json is null) continue;
                if (json["id"] is JsonValue id)
                {
                    if (_pending.TryGetValue(id.GetValue<int>(), out var answer)) answer.TrySetResult(json);
                }
                else if (json["sessionId"]?.GetValue<string>() is { } session && _sessions.TryGetValue(session, out var handler))
                {
                    handler(json["method"]!.GetValue<string>(), json["params"] as JsonObject ?? []);
                }
            }
        }
        catch (WebSocketException)
        {
        }
        foreach (var answer in _pending.Values) answer.TrySetException(new InvalidOperationException("chromium's DevTools connection closed:\n" + Output));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open) await SendAsync(null, "Browser.close", [], TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or WebSocketException)
        {
        }
        if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _socket.Dispose();
        if (_pump is not null) await _pump;
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One tab: navigation, script evaluation, screenshots, and the network responses it saw.</summary>
internal sealed class ChromiumPage(Chromium browser, string session, string targetId)
{
    // By request id: DevTools may deliver responseReceivedExtraInfo before requestWillBeSent (seen
    // under a load average of 17: a 403 listed with no URL), so the URL is looked up when read.
    private readonly ConcurrentQueue<(string RequestId, string Fallback, int Status, JsonObject Headers)> _responses = new();
    private readonly ConcurrentDictionary<string, string> _urls = new();
    private readonly ConcurrentQueue<string> _console = new();

    /// <summary>
    /// Every HTTP response the tab received, WebSocket handshake answers included (also the ones
    /// CORS or a refused handshake then hid from the page).
    /// </summary>
    public IReadOnlyList<(string Url, int Status, JsonObject Headers)> Responses =>
        [.. _responses.Select(r => (_urls.GetValueOrDefault(r.RequestId, r.Fallback), r.Status, r.Headers))];

    /// <summary>The page's console messages and uncaught exceptions.</summary>
    public IReadOnlyList<string> Console => [.. _console];

    private Func<string, (string ContentType, byte[] Body)?>? _serve;

    /// <summary>
    /// Answers the tab's requests whose URL matches <paramref name="urlPattern"/> (DevTools'
    /// <c>Fetch</c> interception, before any connection is made) with what
    /// <paramref name="respond"/> returns for the URL (404 for null): the test serves pages at any
    /// origin without a server there.
    /// </summary>
    public async Task ServeAsync(string urlPattern, Func<string, (string ContentType, byte[] Body)?> respond)
    {
        _serve = respond;
        await browser.SendAsync(session, "Fetch.enable", new JsonObject
        {
            ["patterns"] = new JsonArray(new JsonObject { ["urlPattern"] = urlPattern, ["requestStage"] = "Request" }),
        });
    }

    private async Task FulfillAsync(JsonObject parameters)
    {
        string id = parameters["requestId"]!.GetValue<string>();
        var answer = _serve?.Invoke(parameters["request"]!["url"]!.GetValue<string>());
        await browser.SendAsync(session, "Fetch.fulfillRequest", new JsonObject
        {
            ["requestId"] = id,
            ["responseCode"] = answer is null ? 404 : 200,
            ["responseHeaders"] = new JsonArray(
                new JsonObject { ["name"] = "Content-Type", ["value"] = answer?.ContentType ?? "text/plain" },
                new JsonObject { ["name"] = "Cache-Control", ["value"] = "no-store" }),
            ["body"] = Convert.ToBase64String(answer?.Body ?? "not found"u8.ToArray()),
        });
    }

    internal void OnEvent(string method, JsonObject parameters)
    {
        switch (method)
        {
            case "Fetch.requestPaused":
                // Answered off the DevTools reader, which must stay free to deliver the reply.
                _ = Task.Run(() => FulfillAsync(parameters));
                break;
            // Network.responseReceived is not sent for a response CORS then blocks; the raw
            // ExtraInfo event is, for every response that came off the wire.
            case "Network.requestWillBeSent":
                _urls[parameters["requestId"]!.GetValue<string>()] = parameters["request"]!["url"]!.GetValue<string>();
                break;
            case "Network.responseReceivedExtraInfo":
                _responses.Enqueue((parameters["requestId"]!.GetValue<string>(), "?", parameters["statusCode"]!.GetValue<int>(), parameters["headers"]?.DeepClone().AsObject() ?? []));
                break;
            case "Network.loadingFailed":
                _console.Enqueue($"loading failed: {_urls.GetValueOrDefault(parameters["requestId"]!.GetValue<string>(), "?")} {parameters["errorText"]} {parameters["corsErrorStatus"]?.ToJsonString()}");
                break;
            case "Network.webSocketCreated":
                _urls[parameters["requestId"]!.GetValue<string>()] = parameters["url"]!.GetValue<string>();
                break;
            case "Network.webSocketHandshakeResponseReceived":
                var handshake = parameters["response"]!.AsObject();
                _responses.Enqueue((parameters["requestId"]!.GetValue<string>(), "ws?", handshake["status"]!.GetValue<int>(), handshake["headers"]?.DeepClone().AsObject() ?? []));
                break;
            case "Network.webSocketFrameError":
                string url = _urls.GetValueOrDefault(parameters["requestId"]!.GetValue<string>(), "ws?");
                string error = parameters["errorMessage"]?.GetValue<string>() ?? "";
                _console.Enqueue($"websocket error: {url} {error}");
                // A refused handshake raises no handshake-response event, only this message.
                var refused = System.Text.RegularExpressions.Regex.Match(error, @"Unexpected response code: (\d{3})");
                if (refused.Success) _responses.Enqueue((parameters["requestId"]!.GetValue<string>(), url, int.Parse(refused.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), []));
                break;
            case "Runtime.consoleAPICalled":
                _console.Enqueue(string.Join(' ', parameters["args"]!.AsArray().Select(a => a?["value"]?.ToString() ?? a?["description"]?.ToString() ?? "")));
                break;
            case "Runtime.exceptionThrown":
                _console.Enqueue("exception: " + parameters["exceptionDetails"]?.ToJsonString());
                break;
        }
    }

    public async Task NavigateAsync(string url)
    {
        var result = await browser.SendAsync(session, "Page.navigate", new JsonObject { ["url"] = url });
        if (result["errorText"] is { } error) throw new InvalidOperationException($"navigating to {url}: {error}");
    }

    /// <summary>Evaluates an expression in the page (awaiting a promise) and returns its JSON value.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression, TimeSpan? timeout = null)
    {
        var result = await browser.SendAsync(session, "Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["awaitPromise"] = true,
            ["returnByValue"] = true,
        }, timeout);
        if (result["exceptionDetails"] is JsonObject exception) throw new InvalidOperationException("page script failed: " + exception.ToJsonString());
        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>Polls an expression until it yields a non-null value.</summary>
    public async Task<JsonNode> WaitForAsync(string expression, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await EvaluateAsync(expression) is { } value) return value;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                // The page is still loading (its script not defined yet): ask again.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"page never yielded {expression}; console:\n{string.Join('\n', Console)}");
            await Task.Delay(200);
        }
    }

    public Task CloseAsync() => browser.SendAsync(null, "Target.closeTarget", new JsonObject { ["targetId"] = targetId });

    /// <summary>Sets the viewport (CSS pixels), as a window of that size would have.</summary>
    public Task SetViewportAsync(int width, int height) => browser.SendAsync(session, "Emulation.setDeviceMetricsOverride", new JsonObject
    {
        ["width"] = width,
        ["height"] = height,
        ["deviceScaleFactor"] = 1,
        ["mobile"] = false,
    });

    /// <summary>A PNG of the viewport, written to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var result = await browser.SendAsync(session, "Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result["data"]!.GetValue<string>()));
    }
}
