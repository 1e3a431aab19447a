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
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        session.Abort = context.Abort;
        session.CancelRead = reader.CancelPendingRead;

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

        string endReason = "closed";
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
                        await protocol.HandleAsync(session, ev.Payload, lifetime.ApplicationStopping);
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
                        if (!session.IsClosing)
                        {
                            session.Close(ev.CloseCode == 1005 ? WebSocketCloseCodes.Normal : ev.CloseCode, "");
                        }
                        endReason = $"peer closed with {ev.CloseCode}";
                        break;
                    case WebSocketEventKind.Violation:
                        Log.ProtocolViolation(logger, session.Id, ev.CloseCode, ev.CloseReason);
                        session.Close(ev.CloseCode, ev.CloseReason);
                        endReason = $"protocol violation {ev.CloseCode}";
                        break;
                    case WebSocketEventKind.EndOfStream:
                        endReason = "connection closed by peer";
                        break;
                    case WebSocketEventKind.Cancelled:
                        endReason = "close timeout";
                        break;
                }
                break;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionAbortedException or ObjectDisposedException)
        {
            endReason = ex.Message;
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
        await writer.CompleteAsync();
        if (admitted) Log.Disconnected(logger, session.Id, endReason, outbox.ConflatedTotal);
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Debug, "Client {ClientId} connected on {Listener} from {Remote}, compression {Compression}")]
        public static partial void Connected(ILogger logger, long clientId, string listener, string remote, string compression);

        [LoggerMessage(1002, LogLevel.Debug, "Client {ClientId} disconnected: {Reason} ({Conflated} ticks conflated)")]
        public static partial void Disconnected(ILogger logger, long clientId, string reason, long conflated);

        [LoggerMessage(1003, LogLevel.Warning, "Client {ClientId} refused: server at Limits:MaxClients ({Limit})")]
        public static partial void ServerFull(ILogger logger, long clientId, int limit);

        [LoggerMessage(1004, LogLevel.Information, "Client {ClientId} broke the WebSocket protocol, closing with {Code}: {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, long clientId, int code, string reason);
    }
}
