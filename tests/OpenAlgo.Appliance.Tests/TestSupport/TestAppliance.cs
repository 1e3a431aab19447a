using System.Net;
using System.Net.Sockets;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Sites;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// A real appliance in-process: real Kestrel on 127.0.0.1 port 0 for all three listeners, a real
/// ZeroMQ SUB (the bus) bound on a free loopback port, a temporary state directory. Keys follow the spec's
/// observed runs: "testkey" → testuser/fakebroker.
/// </summary>
internal sealed class TestAppliance : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _root;

    private TestAppliance(WebApplication app, ApplianceOptions options, string root)
    {
        _app = app;
        Options = options;
        _root = root;
    }

    public ApplianceOptions Options { get; }

    /// <summary>The first site's services, then the process's: what a test of the one site of a configuration without Sites asks for.</summary>
    public IServiceProvider Services => new SiteFirst(Site(null).Services, _app.Services);

    /// <summary>The process's own services (shared by every site).</summary>
    public IServiceProvider Root => _app.Services;

    /// <summary>A running site by name (the first when null).</summary>
    public Site Site(string? name) => name is null
        ? _app.Services.GetRequiredService<SiteRegistry>().Current[0]
        : _app.Services.GetRequiredService<SiteRegistry>()[name] ?? throw new InvalidOperationException($"no running site {name}");

    public MarketDataHub Hub => Site(null).Hub;

    /// <summary>A site's internal listener (<c>ws://127.0.0.1:PORT/</c>).</summary>
    public Uri InternalUriOf(string site) =>
        new($"ws://127.0.0.1:{_app.Services.GetRequiredService<ListenerRegistry>().EndPoint(ListenerKind.Internal, site)!.Port}/");

    /// <summary><c>wss://DOMAIN:PORT/ws</c> on the public listener (dial it with <see cref="LoopbackNames"/>).</summary>
    public Uri PublicUriFor(string domain) => new($"wss://{domain}:{Https.Port}/ws");
    public IPEndPoint Https => _app.Services.GetRequiredService<ListenerRegistry>().EndPoint(ListenerKind.Https)!;
    public IPEndPoint? Http => _app.Services.GetRequiredService<ListenerRegistry>().EndPoint(ListenerKind.Http);
    public IPEndPoint Internal => _app.Services.GetRequiredService<ListenerRegistry>().EndPoint(ListenerKind.Internal)!;
    public Uri InternalUri => new($"ws://127.0.0.1:{Internal.Port}/");
    public IPEndPoint? Admin => _app.Services.GetRequiredService<ListenerRegistry>().EndPoint(ListenerKind.Admin);
    public Uri AdminUri => new($"http://127.0.0.1:{Admin!.Port}/");
    public Uri PublicUri => new($"wss://127.0.0.1:{Https.Port}/ws");
    public string ZmqEndpoint => Options.MarketData.ZmqEndpoint;

    /// <param name="services">Registrations for the process's container and for every site's (a site's own services are replaced there).</param>
    public static async Task<TestAppliance> StartAsync(Action<ApplianceOptions>? configure = null, string source = "Zmq", Action<IServiceCollection>? services = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "oa-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var options = new ApplianceOptions
        {
            StateDirectory = Path.Combine(root, "state"),
            LogsDirectory = Path.Combine(root, "logs"),
            Listen = new ListenSection { Https = "127.0.0.1:0", Http = "127.0.0.1:0", Internal = "127.0.0.1:0", Admin = "127.0.0.1:0" },
            MarketData = new MarketDataSection { Source = Enum.Parse<MarketDataSourceKind>(source), ZmqEndpoint = $"tcp://127.0.0.1:{FreeTcpPort()}", SupportedBrokers = "fivepaisa, fivepaisaxts,aliceblue,angel" },
            Auth = new AuthSection
            {
                StaticKeys =
                [
                    new StaticKeyOptions { Key = "testkey", UserId = "testuser", Broker = "fakebroker" },
                    new StaticKeyOptions { Key = "otherkey", UserId = "otheruser", Broker = "zerodha" },
                ],
            },
        };
        options.Limits.PingIntervalSeconds = 0; // tests that need pings turn them on
        configure?.Invoke(options);
        var errors = ApplianceOptionsValidator.Validate(options);
        if (errors.Count > 0) throw new ConfigurationErrorsException(errors);

        var app = ApplianceHost.Build(options, logging => logging.SetMinimumLevel(LogLevel.Warning), services,
            services is null ? null : (_, site) => services(site));
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
            throw;
        }
        return new TestAppliance(app, options, root);
    }

    /// <summary>
    /// A loopback port that is free now, for servers that must be told their port in advance. Picked
    /// below Linux's ephemeral range (32768–60999): a port the kernel hands out for bind(0) is also the
    /// kind it gives outgoing connections, which can take it between this check and the server's bind.
    /// </summary>
    public static int FreeTcpPort()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = Random.Shared.Next(20000, 32000);
            // Never the same port twice in one test run: two tests running in parallel could both find
            // a port free before either bound it (MessageTraceTests lost its internal listener to that).
            lock (HandedOut)
            {
                if (!HandedOut.Add(port) && attempt < 100) continue;
            }
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException) when (attempt < 100)
            {
            }
        }
    }

    private static readonly HashSet<int> HandedOut = [];

    private sealed class SiteFirst(IServiceProvider site, IServiceProvider root) : IServiceProvider
    {
        public object? GetService(Type serviceType) => site.GetService(serviceType) ?? root.GetService(serviceType);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
