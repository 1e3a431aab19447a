using System.Buffers;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

/// <summary>
/// What OpenAlgo's proxy pushes unasked on a key session's connection, on its receive loop:
/// <c>market_data</c> goes into the hub under the session's scope (read in place when OpenAlgo wrote
/// it the usual way, <see cref="ProxyTick"/>), <c>order_update</c> goes as received to the session's
/// order-update clients. Remembers when the last tick came, for the adapter watch.
/// </summary>
internal sealed class ProxyPushRelay(int scope, MarketDataHub hub, SubscriptionBook book, TimeProvider time, string keyFingerprint = "")
{
    /// <summary>Where the message trace says a tick came from.</summary>
    private readonly string _origin = $"from OpenAlgo ({keyFingerprint})";

    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private long _lastTickAt = time.GetTimestamp();

    /// <summary>How long since the last tick (or since <see cref="ResetSilence"/>).</summary>
    public TimeSpan Silence => time.GetElapsedTime(Volatile.Read(ref _lastTickAt));

    public void ResetSilence() => Volatile.Write(ref _lastTickAt, time.GetTimestamp());

    public void OnPushed(ProxyConnection connection, ReadOnlyMemory<byte> raw, PyDict? message)
    {
        if (message is null)
        {
            if (ProxyTick.TryRead(raw.Span, out string symbol, out string exchange, out int tickMode, out Range data))
            {
                ResetSilence();
                var key = new SymbolKey(exchange, symbol, scope);
                hub.TraceTick(hub.Publish(key, tickMode, raw.Span[data]), key, tickMode, raw.Span[data], _origin);
                return;
            }
            try
            {
                message = PyJsonReader.Parse(raw.Span) as PyDict;
            }
            catch (PyJsonException)
            {
                return;
            }
            if (message is null) return;
        }
        if (message.Get("type") is PyStr { Value: "order_update" })
        {
            var targets = book.OrderTargets;
            if (targets.Length == 0) return;
            // Relayed as received: OpenAlgo already wrote it in json.dumps form.
            byte[] frame = WebSocketFrames.Text(raw.Span);
            foreach (var client in targets) client.Outbox.EnqueueControl(frame);
            return;
        }
        if (message.Get("symbol") is not PyStr symbolValue || message.Get("exchange") is not PyStr exchangeValue
            || message.Get("mode") is not PyInt { IsSmall: true, Value: >= 1 and <= 3 } mode || message.Get("data") is not { } dataValue)
        {
            return;
        }
        // The slow path (NaN and the like): re-serialized the way json.dumps writes it.
        ResetSilence();
        _data.ResetWrittenCount();
        PyJsonWriter.WriteValue(_data, dataValue);
        var slowKey = new SymbolKey(exchangeValue.Value, symbolValue.Value, scope);
        hub.TraceTick(hub.Publish(slowKey, (int)mode.Value, _data.WrittenSpan), slowKey, (int)mode.Value, _data.WrittenSpan, _origin);
    }
}
