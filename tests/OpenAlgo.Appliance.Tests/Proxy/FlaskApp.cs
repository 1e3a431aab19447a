using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>
/// The real Flask-SocketIO test app (flask_app.py: Flask + Flask-SocketIO in eventlet mode, from
/// Debian's packages) as a child process of Debian's /usr/bin/python3, on a free loopback TCP
/// port or a temporary unix socket, stopped by PID.
/// </summary>
internal sealed class FlaskApp : IDisposable
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Proxy", "flask_app.py");
    private readonly string _mode;
    private readonly string _name;
    private string _address;
    private Process? _process;

    private FlaskApp(string mode, string address, string name = "")
    {
        _mode = mode;
        _address = address;
        _name = name;
    }

    /// <summary>What <c>Proxy:Upstream</c> is set to: <c>http://127.0.0.1:PORT</c> or <c>unix:PATH</c>.</summary>
    public string Upstream => _mode == "--unix" ? "unix:" + _address : "http://127.0.0.1:" + _address;

    public static async Task<FlaskApp> StartTcpAsync()
    {
        var app = new FlaskApp("--tcp", "0");
        await app.StartAsync();
        return app;
    }

    public static async Task<FlaskApp> StartUnixAsync()
    {
        string path = Path.Combine(Path.GetTempPath(), "oa-flask-" + Guid.NewGuid().ToString("N")[..12] + ".sock");
        var app = new FlaskApp("--unix", path);
        await app.StartAsync();
        return app;
    }

    /// <summary>On a given unix socket (where a fixture's gunicorn listened), answering <c>"app": NAME</c> on /echo.</summary>
    public static async Task<FlaskApp> StartUnixAsync(string path, string name)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var app = new FlaskApp("--unix", path, name);
        await app.StartAsync();
        return app;
    }

    /// <summary>Starts (again) at the same address: a fixed port or socket path after the first start.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Python.Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(_mode);
        start.ArgumentList.Add(_address);
        start.Environment["FLASK_APP_NAME"] = _name;
        var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        // 90 s: eventlet's import and bind take ~1 s on a quiet machine; a clean-clone run under a load
        // average of 35 (four native-AOT compiles beside it) saw one take over 30 s.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        string? line;
        try
        {
            while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token)) is not null && !line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
            }
        }
        catch (OperationCanceledException)
        {
            line = null;
        }
        if (line is null)
        {
            process.Kill();
            throw new InvalidOperationException("flask_app.py did not start: " + await stderr);
        }
        _address = line["LISTENING ".Length..].Trim();
        _process = process;
    }

    /// <summary>Kills the app by its PID, as a crashed gunicorn would vanish.</summary>
    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>The app's own counters, asked directly (not through the appliance).</summary>
    public async Task<int> SessionChecksAsync()
    {
        using var http = DirectClient();
        var stats = await http.GetFromJsonAsync<JsonElement>("/stats");
        return stats.GetProperty("session_checks").GetInt32();
    }

    /// <summary>How many <c>/socket.io/</c> requests reached the app from each Origin ("" for none).</summary>
    public async Task<Dictionary<string, int>> SocketIoOriginsAsync()
    {
        using var http = DirectClient();
        var stats = await http.GetFromJsonAsync<JsonElement>("/stats");
        return stats.GetProperty("socketio_origins").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
    }

    private HttpClient DirectClient()
    {
        if (_mode == "--unix")
        {
            string path = _address;
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                },
            };
            return new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };
        }
        return new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + _address.ToString(CultureInfo.InvariantCulture)) };
    }

    public void Dispose()
    {
        Stop();
        if (_mode == "--unix") File.Delete(_address);
    }
}

/// <summary>One Flask app on TCP shared by the tests of a class (they run one after another).</summary>
public sealed class FlaskAppFixture : IAsyncLifetime
{
    internal FlaskApp App { get; private set; } = null!;

    public async Task InitializeAsync() => App = await FlaskApp.StartTcpAsync();

    public Task DisposeAsync()
    {
        App.Dispose();
        return Task.CompletedTask;
    }
}
