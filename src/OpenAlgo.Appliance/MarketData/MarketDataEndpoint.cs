using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData;

/// <summary>
/// Runs one market-data WebSocket from handshake to close: admits it to the hub, reads messages in
/// order (each handled to completion, as OpenAlgo does), answers Pings, and drains the outbox with
/// one flush per batch. Timers (auth grace, keepalive, idle, slow client) live in
/// <see cref="ConnectionSupervisor"/>.
/// </summary>
internal sealed partial class MarketDataEndpoint(
    MarketDataHub hub,
    OpenAlgoProtocol protocol,
    BulkMessageLane bulk,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<MarketDataEndpoint> logger,
    WebSocketServerOptions webSockets)
{
    public async Task HandleAsync(HttpContext context, string listener)
    {
        // The 24 h idle limit is ours to enforce (Limits:IdleTimeoutSeconds); Kestrel's timeouts must not cut upgraded sockets.
        context.Features.Get<IHttpMinRequestBodyDataRateFeature>()?.MinDataRate = null;
        var accepted = await WebSocketHandshake.AcceptAsync(context, webSockets.PerMessageDeflate);
        if (accepted is not { Stream: var stream, Deflate: var deflate }) return;

        var limits = hub.Limits;
        var outbox = new Outbox(limits.ClientQueueFrames, time, hub.Latency);
        var session = new ClientSession(listener, context.Connection.RemoteIpAddress, outbox, time, limits.MessageBurst)
        {
            DeflateMessageLimit = deflate?.MaxCompressedMessageLength ?? 0,
        };
        var reader = new WebSocketReader(
            PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 512, leaveOpen: true, useZeroByteReads: true)),
            limits.MaxMessageBytes,
            deflate is { } agreed ? new MessageInflater(agreed.ClientNoContextTakeover, limits.MaxMessageBytes) : null);
        // The connection's own output when a listener kept it (ConnectionOutputFeature), else a writer over the upgrade stream.
        var connectionOutput = context.Features.Get<ConnectionOutputFeature>()?.Take();
        var writer = connectionOutput ?? PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        session.Abort = context.Abort;
        session.CancelRead = reader.CancelPendingRead;
        var trace = hub.Trace?.Connection(session);
        outbox.Trace = trace;

        Task<bool> sending = outbox.RunAsync(writer);
        bool admitted = hub.TryRegister(session);
        if (!admitted)
        {
            Log.ServerFull(logger, session.Id, limits.MaxClients);
            OpenAlgoProtocol.SendError(session, ProtocolErrors.LimitExceeded, $"Server is at its connection limit ({limits.MaxClients}); try again later");
            session.Close(WebSocketCloseCodes.TryAgainLater, "try again later");
        }
        else
        {
            Log.Connected(logger, session.Id, listener, session.RemoteAddress?.ToString() ?? "?", deflate is null ? "off" : "permessage-deflate");
        }

        // What the disconnect line says when the client (or the network) ended it; null: the appliance closed first (ClientSession.ClosedBecause).
        string? endReason = null;
        try
        {
            while (true)
            {
                WebSocketEvent ev = await reader.ReadAsync();
                session.LastReceivedAt = time.GetTimestamp();
                switch (ev.Kind)
                {
                    case WebSocketEventKind.Text:
                    case WebSocketEventKind.Binary:
                        if (session.IsClosing) continue; // RFC 6455 §5.5.1: data after our close is discarded
                        trace?.Received(ev.Payload.Span, ev.Kind == WebSocketEventKind.Binary);
                        if (ev.Payload.Length >= BulkMessageLane.Threshold)
                        {
                            var payload = ev.Payload;
                            await bulk.RunAsync(payload.Length, () => protocol.HandleAsync(session, payload, lifetime.ApplicationStopping));
                        }
                        else
                        {
                            await protocol.HandleAsync(session, ev.Payload, lifetime.ApplicationStopping);
                        }
                        trace?.Handled();
                        // A client that sends and never reads: stop reading it until its answers drain (Outbox).
                        if (outbox.RepliesBacklogged) await outbox.WaitWhileRepliesBackloggedAsync();
                        continue;
                    case WebSocketEventKind.Ping:
                        outbox.EnqueueControl(WebSocketFrames.Build(WebSocketFrames.OpPong, ev.Payload.Span));
                        if (outbox.RepliesBacklogged) await outbox.WaitWhileRepliesBackloggedAsync();
                        continue;
                    case WebSocketEventKind.Pong:
                        if (ev.Payload.Length == 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ev.Payload.Span) == session.PingPayload)
                        {
                            session.PingSentAt = 0;
                        }
                        continue;
                    case WebSocketEventKind.Close:
                        // Echo the peer's code (RFC 6455 §5.5.1); a close without a code gets an empty reply body.
                        trace?.Closed(ev.CloseCode, ev.CloseReason);
                        if (!session.IsClosing)
                        {
                            endReason = ev.CloseCode == 1005 ? "closed by the client (no code)" : $"closed by the client with {ev.CloseCode}{Quoted(ev.CloseReason)}";
                            session.Close(ev.CloseCode == 1005 ? WebSocketCloseCodes.Normal : ev.CloseCode, "");
                        }
                        break;
                    case WebSocketEventKind.Violation:
                        Log.ProtocolViolation(logger, session.Id, ev.CloseCode, ev.CloseReason);
                        session.Close(ev.CloseCode, ev.CloseReason, $"the client broke the WebSocket protocol: {ev.CloseReason}");
                        break;
                    case WebSocketEventKind.EndOfStream:
                        if (!session.IsClosing) endReason = "connection dropped by the client without a close frame";
                        break;
                    case WebSocketEventKind.Cancelled:
                        // Our close went unanswered within Limits:CloseTimeoutSeconds; ClosedBecause says why we closed.
                        break;
                }
                break;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionAbortedException or ObjectDisposedException)
        {
            if (!session.IsClosing) endReason = $"connection lost ({ex.Message.TrimEnd('.')})";
        }
        finally
        {
            hub.Unregister(session);
        }

        // Give the close frame (if any) its chance to leave, then end the connection.
        if (session.IsClosing)
        {
            var closeWait = Task.Delay(hub.Limits.CloseTimeout, time);
            if (await Task.WhenAny(sending, closeWait) != sending) context.Abort();
        }
        outbox.Complete();
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionAbortedException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer vanished mid-write; nothing left to deliver.
        }
        reader.Dispose();
        if (connectionOutput is null) await writer.CompleteAsync(); // the connection's own output is Kestrel's to complete
        if (admitted)
        {
            // One line per disconnect, for an operator following the log: who, which door, how long, why.
            string reason = endReason ?? session.ClosedBecause ?? "closed";
            long conflated = outbox.ConflatedTotal;
            if (conflated > 0 && !session.CloseIsWarning) reason += $"; {conflated} ticks conflated";
            Log.Disconnected(logger, session.CloseIsWarning ? LogLevel.Warning : LogLevel.Information,
                session.Id, listener == "https" ? "wss" : listener, session.UserId ?? "-", session.RemoteAddress?.ToString() ?? "?",
                FormatDuration(time.GetElapsedTime(session.ConnectedAt)), reason);
        }
    }

    /// <summary>A client's close reason as it may be logged: quoted, control characters escaped (no forged log lines).</summary>
    private static string Quoted(string reason)
    {
        if (reason.Length == 0) return "";
        var text = new System.Text.StringBuilder(" (\"");
        foreach (char c in reason) text.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        return text.Append("\")").ToString();
    }

    /// <summary>12.3 s, 4m05s, 2h03m, 3d04h: short, and precise where precision matters.</summary>
    internal static string FormatDuration(TimeSpan duration) => duration switch
    {
        { TotalSeconds: < 60 } => $"{duration.TotalSeconds:0.0} s",
        { TotalHours: < 1 } => $"{duration.Minutes}m{duration.Seconds:00}s",
        { TotalDays: < 1 } => $"{duration.Hours}h{duration.Minutes:00}m",
        _ => $"{(int)duration.TotalDays}d{duration.Hours:00}h",
    };

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Debug, "Client {ClientId} connected on {Listener} from {Remote}, compression {Compression}")]
        public static partial void Connected(ILogger logger, long clientId, string listener, string remote, string compression);

        [LoggerMessage(EventId = 1002, Message = "Client {ClientId} ({Door}, user {UserId}, {Remote}) disconnected after {Duration}: {Reason}")]
        public static partial void Disconnected(ILogger logger, LogLevel level, long clientId, string door, string userId, string remote, string duration, string reason);

        [LoggerMessage(1003, LogLevel.Warning, "Client {ClientId} refused: server at Limits:MaxClients ({Limit})")]
        public static partial void ServerFull(ILogger logger, long clientId, int limit);

        [LoggerMessage(1004, LogLevel.Debug, "Client {ClientId} broke the WebSocket protocol, closing with {Code}: {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, long clientId, int code, string reason);
    }
}
