using System.Net.Sockets;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.Sources.Zmtp;

namespace OpenAlgo.Appliance.MarketData.Sources;

/// <summary>
/// OpenAlgo's ZeroMQ bus (spec §9): a SUB socket that <b>binds</b> <c>MarketData:ZmqEndpoint</c>
/// (publishers — broker adapters, the Flask app — connect), subscribes to every topic and reads
/// two-frame messages on a dedicated thread (<see cref="ZmtpSubscriber"/>). Binding happens at start
/// so a busy port fails the start instead of producing "subscribe works, no ticks" (OpenAlgo #1470).
/// Everything one wake-up reads is published as one burst (<see cref="MarketDataHub.BeginBatch"/>):
/// each client's send loop is woken once for it.
/// </summary>
internal sealed partial class ZmqTickSource(MarketDataHub hub, SiteOptions options, IApiKeyAuthenticator authenticator, ILogger<ZmqTickSource> logger) : IMarketDataSource, IDisposable
{
    private ZmtpSubscriber? _socket;
    private Thread? _thread;
    private volatile bool _stopping;
    private BusMessageRouter? _router;

    private long _heartbeats;

    public string Endpoint => options.MarketData.ZmqEndpoint;

    /// <summary>Loop iterations (at least three a second while idle); the watchdog checks it advances.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>
    /// Publishers connected now (broker adapters, OpenAlgo's Flask app). Read off the bus thread for
    /// health: a count that is a moment stale is fine there.
    /// </summary>
    public int Publishers => _socket?.Publishers ?? 0;

    public string Name => "market-data bus";
    public long Progress => Heartbeats;
    public string? Status => null;
    public ISubscriptionGateway? Gateway => null;

    /// <summary>The bus has no state changes worth a STATUS line of their own.</summary>
    public event Action<string>? Changed
    {
        add { }
        remove { }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ZmtpSubscriber socket;
        try
        {
            socket = ZmtpSubscriber.Bind(Endpoint);
        }
        catch (Exception ex) when (ex is SocketException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Appliance:MarketData:ZmqEndpoint: cannot bind {Endpoint} ({ex.Message}). Fix: stop whatever holds that port " +
                "(an older OpenAlgo websocket proxy binds it too), or choose another endpoint and point publishers (ZMQ_HOST/ZMQ_PORT) at it.", ex);
        }
        socket.Connected = peer => Log.PublisherConnected(logger, peer.Remote, peer.SocketType ?? "?", socket.Publishers);
        socket.Disconnected = (peer, problem) =>
        {
            if (problem is null) Log.PublisherLeft(logger, peer.Remote, socket.Publishers);
            else Log.PublisherRefused(logger, peer.Remote, problem);
        };
        _socket = socket;
        _router = new BusMessageRouter(hub, logger) { CacheInvalidation = OnCacheInvalidation };
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = "zmq-bus" };
        _thread.Start();
        Log.Bound(logger, Endpoint);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _thread?.Join(TimeSpan.FromSeconds(2));
        return Task.CompletedTask;
    }

    private void ReceiveLoop()
    {
        var socket = _socket!;
        var router = _router!;
        ZmtpMessageHandler route = (topic, payload) =>
        {
            try
            {
                router.Route(topic, payload);
            }
            catch (Exception ex)
            {
                // One bad message must never stop the bus.
                Log.RouteFailed(logger, ex);
            }
        };
        try
        {
            while (!_stopping)
            {
                Interlocked.Increment(ref _heartbeats);
                MarketDataHub.BeginBatch();
                try
                {
                    socket.Poll(300, route);
                }
                finally
                {
                    MarketDataHub.EndBatch();
                }
            }
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose() => _stopping = true;

    /// <summary>
    /// <c>CACHE_INVALIDATE_{AUTH|FEED|ALL}_{user}</c> (spec §9.4): the payload's <c>cache_type</c>
    /// decides, the topic's segment when the payload has none.
    /// </summary>
    private void OnCacheInvalidation(string topic, PyValue? payload)
    {
        var dict = payload as PyDict;
        string rest = topic.Length > "CACHE_INVALIDATE_".Length ? topic["CACHE_INVALIDATE_".Length..] : "";
        int split = rest.IndexOf('_');
        string type = dict?.Get("cache_type") is PyStr { Value.Length: > 0 } t ? t.Value : split > 0 ? rest[..split] : rest;
        string? user = dict?.Get("user_id") is PyStr u ? u.Value : split > 0 ? rest[(split + 1)..] : null;
        authenticator.Invalidate(type, user);
    }

    private static partial class Log
    {
        [LoggerMessage(1200, LogLevel.Information, "Market-data bus: SUB bound to {Endpoint}; publishers connect here")]
        public static partial void Bound(ILogger logger, string endpoint);

        [LoggerMessage(1202, LogLevel.Error, "Market-data bus: a message could not be routed")]
        public static partial void RouteFailed(ILogger logger, Exception exception);

        [LoggerMessage(1203, LogLevel.Information, "Market-data bus: publisher {Remote} connected ({SocketType}); {Publishers} connected")]
        public static partial void PublisherConnected(ILogger logger, string remote, string socketType, int publishers);

        [LoggerMessage(1204, LogLevel.Information, "Market-data bus: publisher {Remote} disconnected; {Publishers} connected")]
        public static partial void PublisherLeft(ILogger logger, string remote, int publishers);

        [LoggerMessage(1205, LogLevel.Warning, "Market-data bus: connection from {Remote} closed: {Problem}")]
        public static partial void PublisherRefused(ILogger logger, string remote, string problem);
    }
}
