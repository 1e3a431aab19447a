using System.Buffers;
using System.IO.Pipelines;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// One client's outbound queue and the loop that drains it. Frames are shared, pre-built byte
/// arrays (a tick is framed once for all its recipients); everything queued when the loop wakes
/// is copied into the pipe and sent with a single flush. Market data is bounded: past
/// <c>bound</c> queued frames the client is "backlogged" and further ticks are conflated to the
/// newest per symbol and mode, because a trader needs the latest price, not a late one. Replies
/// and control frames are never conflated or dropped; instead, while more than
/// <see cref="ReplyBacklogLimit"/> bytes of them wait, the connection stops reading the client's
/// frames (<see cref="WaitWhileRepliesBackloggedAsync"/>), as Python's websockets stops in
/// <c>send()</c> above its write limit: a client that sends Pings or messages and reads nothing
/// cannot make the server queue answers without bound. Either backlog that makes no progress for
/// the slow-client timeout gets the client closed (<see cref="IsStuck"/>).
/// </summary>
internal sealed class Outbox(int bound, TimeProvider time, Observability.TickLatency? latency = null)
{
    private const int MaxBatchBytes = 256 * 1024;

    /// <summary>
    /// Queued replies and control frames above which the client's frames are no longer read. 64 KiB:
    /// websockets' write limit is 32–64 KiB; a ping flood from a client that reads nothing measured
    /// 30 MB queued for one connection within seconds before this bound (docs/reliability.md, ping flood).
    /// </summary>
    public const int ReplyBacklogLimit = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly AsyncSignal _signal = new();
    private Entry[] _ring = new Entry[8];
    private int _head;
    private int _count;
    private int _marketDataQueued;
    private Dictionary<ConflationKey, byte[]>? _conflated;
    private bool _closed;
    private long _backloggedSince;
    private long _lastFlush = time.GetTimestamp();
    private long _conflatedTotal;
    private long _oldestUnflushed;
    private long _replyBytes;
    private long _repliesBackloggedSince;
    private readonly AsyncSignal _drained = new();
    private int _wakeDeferred;

    /// <summary>The message trace of this connection (replies, order updates and the close frame it queues); null: none.</summary>
    public Observability.Trace.ConnectionTrace? Trace { get; set; }

    /// <summary>The queue's lock; exposed so tests can wedge a publisher on purpose.</summary>
    internal Lock Gate => _gate;

    /// <summary>Ticks replaced by a newer one while this client was backlogged.</summary>
    public long ConflatedTotal => Interlocked.Read(ref _conflatedTotal);

    public bool IsBacklogged
    {
        get { lock (_gate) return _backloggedSince != 0; }
    }

    /// <summary>Bytes of replies and control frames queued and not yet handed to the socket.</summary>
    public long QueuedReplyBytes => Volatile.Read(ref _replyBytes);

    /// <summary>True when more than <see cref="ReplyBacklogLimit"/> bytes of replies wait: stop reading the client.</summary>
    public bool RepliesBacklogged => Volatile.Read(ref _replyBytes) > ReplyBacklogLimit;

    /// <summary>
    /// True when backlogged (market data conflating, or replies over their limit) and nothing has
    /// been flushed for <paramref name="limit"/>.
    /// </summary>
    public bool IsStuck(TimeSpan limit)
    {
        lock (_gate)
        {
            long since = _backloggedSince == 0 ? _repliesBackloggedSince
                : _repliesBackloggedSince == 0 ? _backloggedSince
                : Math.Min(_backloggedSince, _repliesBackloggedSince);
            return since != 0 && time.GetElapsedTime(Math.Max(since, Volatile.Read(ref _lastFlush))) > limit;
        }
    }

    /// <summary>Completes once the queued replies are back under <see cref="ReplyBacklogLimit"/> or the outbox is closed. One waiter at a time.</summary>
    public async ValueTask WaitWhileRepliesBackloggedAsync()
    {
        while (true)
        {
            lock (_gate)
            {
                if (_closed || _replyBytes <= ReplyBacklogLimit) return;
            }
            await _drained.WaitAsync();
        }
    }

    /// <summary>
    /// Queues a shared market-data frame; false when the outbox is closed. <paramref name="receivedAt"/>
    /// is when the tick reached the hub (<see cref="TimeProvider.GetTimestamp"/>), for the latency measurement.
    /// With a <paramref name="batch"/> the send loop is not woken now but once, when the batch ends
    /// (<see cref="WakeBatch"/>): a burst of ticks costs each client one wake-up and one flush.
    /// </summary>
    public bool EnqueueMarketData(byte[] frame, object symbol, byte mode, long receivedAt = 0, WakeBatch? batch = null)
    {
        lock (_gate)
        {
            if (_closed) return false;
            if (_oldestUnflushed == 0) _oldestUnflushed = receivedAt;
            if (_marketDataQueued >= bound || _conflated is { Count: > 0 })
            {
                _conflated ??= [];
                if (_conflated.Count == 0 && _backloggedSince == 0) _backloggedSince = time.GetTimestamp();
                ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_conflated, new ConflationKey(symbol, mode), out bool existed);
                if (existed) Interlocked.Increment(ref _conflatedTotal);
                slot = frame;
            }
            else
            {
                Push(new Entry(frame, IsMarketData: true, IsClose: false));
                _marketDataQueued++;
            }
        }
        if (batch is null) _signal.Set();
        else if (Interlocked.Exchange(ref _wakeDeferred, 1) == 0) batch.Add(this);
        return true;
    }

    /// <summary>Wakes the send loop for frames queued in a batch (called once per batch by <see cref="WakeBatch"/>).</summary>
    internal void WakeDeferred()
    {
        // Cleared before the wake: a frame queued from now on either sees 0 and joins its own batch, or is
        // already in the queue this wake drains.
        Volatile.Write(ref _wakeDeferred, 0);
        _signal.Set();
    }

    /// <summary>Queues a reply or control frame (never conflated); false when the outbox is closed.</summary>
    public bool EnqueueControl(byte[] frame)
    {
        lock (_gate)
        {
            if (_closed) return false;
            Push(new Entry(frame, IsMarketData: false, IsClose: false));
            AddReplyBytes(frame.Length);
        }
        _signal.Set();
        Trace?.Sent(frame);
        return true;
    }

    /// <summary>Queues the close frame as the last frame; nothing is accepted after it.</summary>
    public bool EnqueueClose(byte[] frame)
    {
        lock (_gate)
        {
            if (_closed) return false;
            Push(new Entry(frame, IsMarketData: false, IsClose: true));
            AddReplyBytes(frame.Length);
            _closed = true;
        }
        _signal.Set();
        _drained.Set();
        Trace?.Sent(frame);
        return true;
    }

    /// <summary>Stops accepting frames (the connection is gone) and wakes the loop so it can exit.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _closed = true;
            _count = 0;
            _head = 0;
            Array.Clear(_ring);
            _conflated?.Clear();
            _marketDataQueued = 0;
            _replyBytes = 0;
        }
        _signal.Set();
        _drained.Set();
    }

    /// <summary>
    /// Drains the queue into <paramref name="writer"/> until the close frame has been written or the
    /// outbox is completed. Returns true when a close frame went out.
    /// </summary>
    public async Task<bool> RunAsync(PipeWriter writer)
    {
        while (true)
        {
            await _signal.WaitAsync();
            while (true)
            {
                bool closeWritten = false;
                long oldest;
                lock (_gate)
                {
                    oldest = _oldestUnflushed;
                    _oldestUnflushed = 0;
                    if (_count == 0 && (_conflated is null || _conflated.Count == 0))
                    {
                        if (_closed) return false;
                        break;
                    }
                    int bytes = 0;
                    while (_count > 0 && bytes < MaxBatchBytes)
                    {
                        var entry = _ring[_head];
                        _ring[_head] = default;
                        _head = (_head + 1) & (_ring.Length - 1);
                        _count--;
                        if (entry.IsMarketData) _marketDataQueued--;
                        else _replyBytes -= entry.Frame.Length;
                        writer.Write(entry.Frame);
                        bytes += entry.Frame.Length;
                        if (entry.IsClose)
                        {
                            closeWritten = true;
                            _count = 0;
                            break;
                        }
                    }
                    if (!closeWritten && _count == 0 && _conflated is { Count: > 0 })
                    {
                        foreach (var frame in _conflated.Values) writer.Write(frame);
                        _conflated.Clear();
                    }
                    if (_backloggedSince != 0 && _marketDataQueued < bound && (_conflated is null || _conflated.Count == 0))
                    {
                        _backloggedSince = 0;
                    }
                    if (_repliesBackloggedSince != 0 && _replyBytes <= ReplyBacklogLimit) _repliesBackloggedSince = 0;
                }
                _drained.Set();
                FlushResult result = await writer.FlushAsync();
                long flushed = time.GetTimestamp();
                Volatile.Write(ref _lastFlush, flushed);
                // Per flush, not per frame: the oldest tick of the batch, received → written to the socket.
                if (oldest != 0) latency?.Record(time.GetElapsedTime(oldest, flushed));
                if (closeWritten) return true;
                if (result.IsCompleted || result.IsCanceled) return false;
            }
        }
    }

    private void AddReplyBytes(int bytes)
    {
        _replyBytes += bytes;
        if (_replyBytes > ReplyBacklogLimit && _repliesBackloggedSince == 0) _repliesBackloggedSince = time.GetTimestamp();
    }

    private void Push(Entry entry)
    {
        if (_count == _ring.Length)
        {
            var bigger = new Entry[_ring.Length * 2];
            for (int i = 0; i < _count; i++) bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
            _ring = bigger;
            _head = 0;
        }
        _ring[(_head + _count) & (_ring.Length - 1)] = entry;
        _count++;
    }

    private readonly record struct Entry(byte[] Frame, bool IsMarketData, bool IsClose);

    private readonly record struct ConflationKey(object Symbol, byte Mode);
}
