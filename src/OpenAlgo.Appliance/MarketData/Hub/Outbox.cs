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

    // The pipe writer's owner (RunAsync's loop or an inline writer, see TryWriteInline): 1 while held.
    private int _owner;
    private PipeWriter? _writer;
    private Task<FlushResult>? _handover;
    private long _handoverOldest;
    private bool _handoverClose;
    private bool _closeSent;
    private bool _ended;

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

    /// <summary>
    /// Writes a batch's frames to the socket on the publishing thread when the writer is free and the
    /// socket keeps up, else wakes the send loop (called once per batch by <see cref="WakeBatch"/>).
    /// </summary>
    internal void WakeDeferred()
    {
        // Cleared before the write: a frame queued from now on either sees 0 and joins its own batch, or is
        // already in the queue this write drains.
        Volatile.Write(ref _wakeDeferred, 0);
        if (!TryWriteInline()) _signal.Set();
    }

    /// <summary>
    /// Whether a burst's publishing thread may write and flush for this client itself (see
    /// <see cref="WakeDeferred"/>); off, every flush happens on the send loop.
    /// </summary>
    public bool InlineWrites { get; init; } = true;

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
    /// outbox is completed. Returns true when a close frame went out. The writer has one owner at a
    /// time: this loop, or a publishing thread that writes a burst's frames itself
    /// (<see cref="WakeDeferred"/>); a flush that thread could not finish is handed over to this loop.
    /// </summary>
    public async Task<bool> RunAsync(PipeWriter writer)
    {
        Volatile.Write(ref _writer, writer);
        while (true)
        {
            await _signal.WaitAsync();
            if (Volatile.Read(ref _handover) is { } handover)
            {
                // An inline writer started this flush and still owns the writer: its ownership is ours now.
                _handover = null;
                FlushResult result = await handover;
                if (AfterFlush(result, _handoverOldest, _handoverClose) is { } done) return done;
            }
            else if (Interlocked.CompareExchange(ref _owner, 1, 0) != 0)
            {
                continue; // an inline writer is at work; it drains everything and signals when it lets go
            }
            while (true)
            {
                if (Volatile.Read(ref _closeSent)) return true;
                if (Volatile.Read(ref _ended)) return false;
                if (!TakeBatch(writer, out long oldest, out bool closeWritten))
                {
                    if (IsClosedAndEmpty()) return false; // keeps ownership: nothing writes after the end
                    Volatile.Write(ref _owner, 0);
                    // A frame queued between the check and the release signalled an owner that was busy: look again.
                    if (!HasWork() || Interlocked.CompareExchange(ref _owner, 1, 0) != 0) break;
                    continue;
                }
                FlushResult result = await writer.FlushAsync();
                if (AfterFlush(result, oldest, closeWritten) is { } done) return done;
            }
        }
    }

    /// <summary>
    /// Writes and flushes what is queued on the calling thread when nobody else holds the writer and
    /// the flush completes at once (the socket took the bytes): no thread to wake for the send. False
    /// when the loop must do it (busy, not started, or inline writing is off).
    /// </summary>
    private bool TryWriteInline()
    {
        var writer = Volatile.Read(ref _writer);
        if (writer is null || !InlineWrites || Interlocked.CompareExchange(ref _owner, 1, 0) != 0) return false;
        try
        {
            while (true)
            {
                if (!TakeBatch(writer, out long oldest, out bool closeWritten))
                {
                    Volatile.Write(ref _owner, 0);
                    if (Volatile.Read(ref _closed)) break; // the loop must notice the end and take the writer back
                    if (!HasWork()) return true;
                    if (Interlocked.CompareExchange(ref _owner, 1, 0) != 0) return true; // the loop has it now
                    continue;
                }
                var flush = writer.FlushAsync();
                if (!flush.IsCompleted)
                {
                    // The socket is behind (the pipe is over its limit): the loop waits for it, not this thread.
                    (_handoverOldest, _handoverClose) = (oldest, closeWritten);
                    Volatile.Write(ref _handover, flush.AsTask());
                    break;
                }
                if (AfterFlush(flush.Result, oldest, closeWritten) is not null) break; // close sent or the pipe ended: the loop returns
            }
        }
        catch (Exception ex)
        {
            // The connection broke under us: the loop rethrows it as its own write would have.
            _handoverOldest = 0;
            _handoverClose = false;
            Volatile.Write(ref _handover, Task.FromException<FlushResult>(ex));
        }
        _signal.Set();
        return true;
    }

    /// <summary>Moves up to <see cref="MaxBatchBytes"/> of queued frames into <paramref name="writer"/>; false when nothing was queued.</summary>
    private bool TakeBatch(PipeWriter writer, out long oldest, out bool closeWritten)
    {
        closeWritten = false;
        lock (_gate)
        {
            oldest = _oldestUnflushed;
            _oldestUnflushed = 0;
            if (_count == 0 && (_conflated is null || _conflated.Count == 0)) return false;
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
        return true;
    }

    /// <summary>Bookkeeping after a flush; true/false when the loop is over (close frame sent / pipe ended), null to go on.</summary>
    private bool? AfterFlush(FlushResult result, long oldest, bool closeWritten)
    {
        long flushed = time.GetTimestamp();
        Volatile.Write(ref _lastFlush, flushed);
        // Per flush, not per frame: the oldest tick of the batch, received → written to the socket.
        if (oldest != 0) latency?.Record(time.GetElapsedTime(oldest, flushed));
        if (closeWritten)
        {
            Volatile.Write(ref _closeSent, true);
            return true;
        }
        if (result.IsCompleted || result.IsCanceled)
        {
            Volatile.Write(ref _ended, true);
            return false;
        }
        return null;
    }

    private bool HasWork()
    {
        lock (_gate) return _count > 0 || _conflated is { Count: > 0 } || _closed;
    }

    private bool IsClosedAndEmpty()
    {
        lock (_gate) return _closed && _count == 0 && (_conflated is null || _conflated.Count == 0);
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
