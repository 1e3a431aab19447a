using NetMQ;
using NetMQ.Sockets;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources;

/// <summary>
/// OpenAlgo's ZeroMQ bus (spec §9): a SUB socket that <b>binds</b> <c>MarketData:ZmqEndpoint</c>
/// (publishers — broker adapters, the Flask app — connect), subscribes to every topic and reads
/// two-frame messages on a dedicated thread. Binding happens at start so a busy port fails the
/// start instead of producing "subscribe works, no ticks" (OpenAlgo #1470).
/// </summary>
internal sealed partial class ZmqTickSource(MarketDataHub hub, SiteOptions options, IApiKeyAuthenticator authenticator, ILogger<ZmqTickSource> logger) : IMarketDataSource, IDisposable
{
    private SubscriberSocket? _socket;
    private Thread? _thread;
    private volatile bool _stopping;
    private BusMessageRouter? _router;

    private long _heartbeats;

    public string Endpoint => options.MarketData.ZmqEndpoint;

    /// <summary>Loop iterations (at least three a second while idle); the watchdog checks it advances.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

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
        var socket = new SubscriberSocket();
        // OpenAlgo keeps libzmq's 1000; a burst at market open must not be dropped silently.
        socket.Options.ReceiveHighWatermark = 100_000;
        socket.Options.Linger = TimeSpan.Zero;
        try
        {
            socket.Bind(Endpoint);
        }
        catch (Exception ex) when (ex is NetMQException or System.Net.Sockets.SocketException)
        {
            socket.Dispose();
            throw new InvalidOperationException(
                $"Appliance:MarketData:ZmqEndpoint: cannot bind {Endpoint} ({ex.Message}). Fix: stop whatever holds that port " +
                "(an older OpenAlgo websocket proxy binds it too), or choose another endpoint and point publishers (ZMQ_HOST/ZMQ_PORT) at it.", ex);
        }
        socket.SubscribeToAnyTopic();
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
        var topic = new Msg();
        var payload = new Msg();
        topic.InitEmpty();
        payload.InitEmpty();
        byte[] topicCopy = new byte[1024];
        try
        {
            while (!_stopping)
            {
                Interlocked.Increment(ref _heartbeats);
                if (!socket.TryReceive(ref topic, TimeSpan.FromMilliseconds(300))) continue;
                if (!topic.HasMore)
                {
                    continue; // single-frame message: not OpenAlgo's format
                }
                int topicLength = topic.Size;
                if (topicLength > topicCopy.Length) topicCopy = new byte[topicLength];
                topic.Slice().CopyTo(topicCopy);
                socket.Receive(ref payload);
                bool extra = payload.HasMore;
                try
                {
                    router.Route(topicCopy.AsSpan(0, topicLength), payload.Slice());
                }
                catch (Exception ex)
                {
                    // One bad message must never stop the bus.
                    Log.RouteFailed(logger, ex);
                }
                while (extra)
                {
                    socket.Receive(ref payload);
                    extra = payload.HasMore;
                }
            }
        }
        catch (Exception ex) when (ex is TerminatingException or ObjectDisposedException)
        {
        }
        finally
        {
            topic.Close();
            payload.Close();
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
    }
}
