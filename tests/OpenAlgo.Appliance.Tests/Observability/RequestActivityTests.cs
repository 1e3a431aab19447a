using System.Diagnostics;
using System.Text.Json;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// No <see cref="Activity"/> per request (docs/benchmarks.md, "Target 5, proxy": ≈ 3–5 µs of CPU per
/// proxied request): ASP.NET Core starts one whenever its hosting diagnostics logger is enabled,
/// which any logging provider makes it, and HttpClient starts a child for the proxied request under
/// it. The meters stay (MetricsEndpointTests).
/// </summary>
public sealed class RequestActivityTests
{
    [Fact]
    public async Task A_request_runs_without_an_activity_even_with_a_logging_provider_as_the_service_has()
    {
        using var serilog = new Serilog.LoggerConfiguration().MinimumLevel.Verbose().CreateLogger();
        await using var appliance = await TestAppliance.StartAsync(
            services: s => s.AddSingleton<ILoggerProvider>(new Serilog.Extensions.Logging.SerilogLoggerProvider(serilog)));
        // The host's own listener (not every one in the process): the event it writes as a request
        // begins, on the request's flow, where its Activity would be current.
        var diagnostics = appliance.Root.GetRequiredService<DiagnosticListener>();
        var seen = new List<(bool Began, Activity? Current)>();
        using var subscription = diagnostics.Subscribe(new Observer(e =>
        {
            lock (seen) seen.Add((e.Key == "Microsoft.AspNetCore.Hosting.BeginRequest", Activity.Current));
        }), (name, _, _) => name == "Microsoft.AspNetCore.Hosting.BeginRequest");

        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        (await http.GetAsync($"https://127.0.0.1:{appliance.Https.Port}/")).Dispose();
        (await http.GetAsync(new Uri(appliance.AdminUri, "/healthz"))).Dispose();

        lock (seen)
        {
            Assert.Equal(2, seen.Count(e => e.Began));
            Assert.All(seen, e => Assert.Null(e.Current));
        }
        // The category is off for that reason only: the rest of ASP.NET Core still logs its warnings.
        var loggers = appliance.Root.GetRequiredService<ILoggerFactory>();
        Assert.False(loggers.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical));
        Assert.True(loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
    }

    [Fact]
    public void The_binary_leaves_HttpClients_activity_propagation_out()
    {
        // HttpActivityPropagationSupport=false in the project: the switch the runtime reads (and the
        // trimmer removes DiagnosticsHandler by), in the executable's runtimeconfig as shipped.
        string path = Path.Combine(AppContext.BaseDirectory, "openalgo-appliance.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var switches = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.False(switches.GetProperty("System.Net.Http.EnableActivityPropagation").GetBoolean());
    }

    private sealed class Observer(Action<KeyValuePair<string, object?>> next) : IObserver<KeyValuePair<string, object?>>
    {
        public void OnCompleted() { }

        public void OnError(Exception error) { }

        public void OnNext(KeyValuePair<string, object?> value) => next(value);
    }
}
