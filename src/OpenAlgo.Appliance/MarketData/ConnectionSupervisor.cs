using System.Security.Cryptography;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData;

/// <summary>
/// One timer for every connection instead of several per connection: four times a second it
/// closes unauthenticated sockets after the grace period (4401 "auth timeout"), sends RFC 6455
/// Pings and closes peers that do not answer (1011 "keepalive ping timeout"), closes idle and stuck
/// slow clients (1008), and aborts connections whose close handshake does not finish.
/// </summary>
internal sealed partial class ConnectionSupervisor(MarketDataHub hub, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<ConnectionSupervisor> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    /// <summary>Incremented on every sweep; the systemd watchdog pets only while this advances.</summary>
    public long Sweeps => Interlocked.Read(ref _sweeps);
    private long _sweeps;

    /// <summary>
    /// Shutdown as OpenAlgo's proxy does it (spec §3.6): every client gets close 1001 (going away)
    /// so SDKs reconnect at once. This runs on ApplicationStopping, before Kestrel starts waiting
    /// for connections to drain, so the close handshakes finish within that wait.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(CloseAllGoingAway);
        return base.StartAsync(cancellationToken);
    }

    internal void CloseAllGoingAway()
    {
        int closing = 0;
        foreach (var session in hub.Sessions)
        {
            if (session.Close(WebSocketCloseCodes.GoingAway, "", "shutting down")) closing++;
        }
        if (closing > 0) Log.ShuttingDown(logger, closing);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Sweep();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal void Sweep()
    {
        Interlocked.Increment(ref _sweeps);
        var limits = hub.Limits;
        long now = time.GetTimestamp();
        Span<byte> pingBytes = stackalloc byte[4];
        foreach (var session in hub.Sessions)
        {
            if (session.IsClosing)
            {
                if (time.GetElapsedTime(session.ClosingSince, now) > limits.CloseTimeout)
                {
                    session.CancelRead?.Invoke();
                    session.Abort?.Invoke();
                }
                continue;
            }
            if (!session.IsAuthenticated && time.GetElapsedTime(session.ConnectedAt, now) >= limits.AuthGrace)
            {
                Log.AuthTimeout(logger, session.Id, limits.AuthGrace.TotalSeconds);
                session.Close(WebSocketCloseCodes.AuthTimeout, "auth timeout", $"no authenticate within {limits.AuthGrace.TotalSeconds:0.#} s, Limits:AuthGraceSeconds");
                continue;
            }
            if (session.Outbox.IsStuck(limits.SlowClientTimeout))
            {
                Log.SlowClient(logger, session.Id, session.UserId ?? "-", limits.SlowClientTimeout.TotalSeconds, session.Outbox.ConflatedTotal);
                string because = $"too slow: no progress for {limits.SlowClientTimeout.TotalSeconds:0.#} s while backlogged, {session.Outbox.ConflatedTotal} ticks conflated, Limits:SlowClientTimeoutSeconds";
                if (session.Close(WebSocketCloseCodes.PolicyViolation, "client too slow", because, warn: true)) hub.Counters.SlowClientDisconnected();
                continue;
            }
            if (time.GetElapsedTime(Volatile.Read(ref session.LastReceivedAt), now) > limits.IdleTimeout)
            {
                session.Close(WebSocketCloseCodes.Normal, "idle timeout", $"silent for {limits.IdleTimeout.TotalSeconds:0.#} s, Limits:IdleTimeoutSeconds");
                continue;
            }
            if (limits.PingInterval > TimeSpan.Zero)
            {
                long sent = Volatile.Read(ref session.PingSentAt);
                if (sent != 0)
                {
                    if (time.GetElapsedTime(sent, now) > limits.PingTimeout)
                    {
                        Log.PingTimeout(logger, session.Id);
                        session.Close(WebSocketCloseCodes.InternalError, "keepalive ping timeout", $"no Pong within {limits.PingTimeout.TotalSeconds:0.#} s, Limits:PingTimeoutSeconds");
                    }
                }
                else if (time.GetElapsedTime(session.LastPingAt, now) >= limits.PingInterval)
                {
                    uint payload = (uint)RandomNumberGenerator.GetInt32(int.MaxValue);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(pingBytes, payload);
                    session.PingPayload = payload;
                    session.LastPingAt = now;
                    Volatile.Write(ref session.PingSentAt, now);
                    session.Outbox.EnqueueControl(WebSocketFrames.Build(WebSocketFrames.OpPing, pingBytes));
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1010, LogLevel.Debug, "Client {ClientId} did not authenticate within {Seconds} s; closing with 4401")]
        public static partial void AuthTimeout(ILogger logger, long clientId, double seconds);

        [LoggerMessage(1011, LogLevel.Debug, "Client {ClientId} (user {UserId}) made no progress for {Seconds} s while backlogged ({Conflated} ticks conflated); closing with 1008")]
        public static partial void SlowClient(ILogger logger, long clientId, string userId, double seconds, long conflated);

        [LoggerMessage(1013, LogLevel.Information, "Shutting down: closing {Count} market-data connections with 1001")]
        public static partial void ShuttingDown(ILogger logger, int count);

        [LoggerMessage(1012, LogLevel.Debug, "Client {ClientId} did not answer a Ping in time; closing with 1011")]
        public static partial void PingTimeout(ILogger logger, long clientId);
    }
}
