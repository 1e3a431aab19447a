using System.Collections.Concurrent;

namespace OpenAlgo.Appliance.MarketData;

/// <summary>
/// Where large client messages are read and handled: dedicated threads, not the thread pool that
/// runs every connection's sends. A subscribe naming thousands of symbols or a many-key object is
/// CPU work of milliseconds to tens of milliseconds; on the pool, a few of them at once held both
/// of a two-core box's pool threads, and every other client's ticks waited for the pool to grow
/// (measured before: four clients sending 10,000-symbol subscribes took a quiet client's tick p99
/// from 6 ms to 477 ms). Here they queue behind one another; a connection's messages stay in order
/// (its loop awaits each one), everything they await resumes here too, and the pool is left to
/// ticks and small messages. The thread count bounds the share of the CPU such work can take:
/// half the cores, at least one.
/// </summary>
internal sealed class BulkMessageLane : TaskScheduler, IDisposable
{
    /// <summary>
    /// Messages this size or larger take the lane. Below it handling costs well under a millisecond
    /// (a 16 KiB subscribe names about 350 symbols), so the hop would cost more than it saves.
    /// </summary>
    public const int Threshold = 16 * 1024;

    private readonly BlockingCollection<Task> _queue = new();
    private readonly int _threads;
    private readonly TimeProvider _time;
    private long _bytesHandled;
    private long _lastFinished;
    private int _running;

    public BulkMessageLane(TimeProvider time) : this(time, Math.Max(1, Environment.ProcessorCount / 2)) { }

    public BulkMessageLane(TimeProvider time, int threads)
    {
        _time = time;
        _lastFinished = time.GetTimestamp();
        _threads = threads;
        for (int i = 0; i < threads; i++)
        {
            new Thread(Work) { IsBackground = true, Name = $"bulk messages {i + 1}" }.Start();
        }
    }

    public override int MaximumConcurrencyLevel => _threads;

    /// <summary>Lane work items waiting for a lane thread (a message's continuations count too).</summary>
    public int Queued => _queue.Count;

    /// <summary>Messages accepted and not finished yet.</summary>
    public bool Busy => Volatile.Read(ref _running) > 0;

    /// <summary>Bytes of messages handled since start (what a burst put through).</summary>
    public long BytesHandled => Interlocked.Read(ref _bytesHandled);

    /// <summary>When the last message finished (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long LastFinished => Interlocked.Read(ref _lastFinished);

    /// <summary>
    /// Runs <paramref name="work"/>, the handling of a message of <paramref name="bytes"/>, on the
    /// lane; awaits inside it resume on the lane. The returned task completes on the thread pool, so
    /// the caller's own loop never continues on a lane thread.
    /// </summary>
    public Task RunAsync(int bytes, Func<ValueTask> work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _running);
        try
        {
            _ = Task.Factory.StartNew(async () =>
            {
                try
                {
                    await work();
                    done.TrySetResult();
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }
                finally
                {
                    Interlocked.Add(ref _bytesHandled, bytes);
                    Interlocked.Exchange(ref _lastFinished, _time.GetTimestamp());
                    Interlocked.Decrement(ref _running);
                }
            }, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this);
        }
        catch (InvalidOperationException)
        {
            Interlocked.Decrement(ref _running);
            done.TrySetException(new ObjectDisposedException(nameof(BulkMessageLane)));
        }
        return done.Task;
    }

    protected override void QueueTask(Task task) => _queue.Add(task);

    // Never run lane work inline on another thread (that is the point), nor re-enter a lane thread's stack.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Work()
    {
        foreach (var task in _queue.GetConsumingEnumerable()) TryExecuteTask(task);
    }

    public void Dispose() => _queue.CompleteAdding();
}
