using System.IO.Pipelines;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Tests.MarketData.Hub;

/// <summary>
/// A burst's publishing thread writes and flushes for an idle client itself (no send loop to wake);
/// a flush the socket cannot take at once is handed to the send loop, and the writer never has two users.
/// </summary>
public sealed class OutboxInlineWriteTests
{
    private static readonly object Symbol = new();

    private sealed class RecordingWriter(PipeWriter inner, Exception? fail = null) : PipeWriter
    {
        public readonly List<int> FlushThreads = [];
        public volatile bool Retired;
        public ManualResetEventSlim? Gate;
        public readonly ManualResetEventSlim Entered = new();
        public int UsedAfterRetired;

        public override void Advance(int bytes)
        {
            Check();
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            Check();
            return inner.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            Check();
            return inner.GetSpan(sizeHint);
        }

        private void Check()
        {
            if (Retired) Interlocked.Increment(ref UsedAfterRetired);
        }
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Check();
            Entered.Set();
            Gate?.Wait();
            lock (FlushThreads) FlushThreads.Add(Environment.CurrentManagedThreadId);
            if (fail is not null) throw fail;
            return inner.FlushAsync(cancellationToken);
        }
    }

    private static void Burst(Outbox outbox, params byte[][] frames)
    {
        var batch = new WakeBatch();
        foreach (var frame in frames) outbox.EnqueueMarketData(frame, Symbol, 1, 0, batch);
        batch.WakeAll();
    }

    [Fact]
    public async Task An_idle_clients_burst_is_flushed_on_the_publishing_thread_before_the_burst_ends()
    {
        var outbox = new Outbox(100, TimeProvider.System);
        var pipe = new Pipe();
        var writer = new RecordingWriter(pipe.Writer);
        var run = outbox.RunAsync(writer);

        Burst(outbox, [1], [2], [3]);
        // Already in the pipe when WakeAll returns, flushed once, by this thread.
        Assert.True(pipe.Reader.TryRead(out var read));
        Assert.Equal(new byte[] { 1, 2, 3 }, System.Buffers.BuffersExtensions.ToArray(read.Buffer));
        pipe.Reader.AdvanceTo(read.Buffer.End);
        Assert.Equal([Environment.CurrentManagedThreadId], writer.FlushThreads);

        // Frames queued outside a burst still go through the loop.
        outbox.EnqueueControl([9]);
        read = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(new byte[] { 9 }, System.Buffers.BuffersExtensions.ToArray(read.Buffer));
        pipe.Reader.AdvanceTo(read.Buffer.End);

        outbox.Complete();
        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_flush_the_socket_cannot_take_is_finished_by_the_loop_and_order_is_kept()
    {
        var outbox = new Outbox(10_000, TimeProvider.System);
        // A socket that is behind: the pipe pauses its writer past 64 bytes until the reader catches up.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, useSynchronizationContext: false));
        var writer = new RecordingWriter(pipe.Writer);
        var run = outbox.RunAsync(writer);

        var big = Enumerable.Range(0, 100).Select(i => new byte[] { (byte)i }).ToArray();
        Burst(outbox, big); // returns at once: the pending flush went to the loop
        Burst(outbox, [200], [201]);
        outbox.EnqueueControl([250]);

        var received = new List<byte>();
        while (received.Count < 103)
        {
            var read = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            received.AddRange(System.Buffers.BuffersExtensions.ToArray(read.Buffer));
            pipe.Reader.AdvanceTo(read.Buffer.End);
        }
        Assert.Equal([.. Enumerable.Range(0, 100).Select(i => (byte)i), 200, 201, 250], received);

        Assert.True(outbox.EnqueueClose([99]));
        var last = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(new byte[] { 99 }, System.Buffers.BuffersExtensions.ToArray(last.Buffer));
        pipe.Reader.AdvanceTo(last.Buffer.End);
        Assert.True(await run.WaitAsync(TimeSpan.FromSeconds(5)));
        Burst(outbox, [7]); // after the close nothing is accepted, and nothing writes
        Assert.False(pipe.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_broken_connection_met_by_an_inline_write_fails_the_send_loop()
    {
        var outbox = new Outbox(100, TimeProvider.System);
        var pipe = new Pipe();
        var run = outbox.RunAsync(new RecordingWriter(pipe.Writer, new IOException("connection reset")));
        Burst(outbox, [1]);
        await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task The_send_loop_does_not_end_while_an_inline_writer_still_holds_the_writer()
    {
        var outbox = new Outbox(1000, TimeProvider.System);
        var pipe = new Pipe();
        var writer = new RecordingWriter(pipe.Writer) { Gate = new ManualResetEventSlim() };
        var run = outbox.RunAsync(writer);
        var publisher = new Thread(() => Burst(outbox, [1], [2]));
        publisher.Start();
        Assert.True(writer.Entered.Wait(TimeSpan.FromSeconds(5))); // the publisher is inside its flush

        outbox.Complete();
        await Task.Delay(300);
        Assert.False(run.IsCompleted); // the endpoint would complete the writer the moment the loop returns

        writer.Gate.Set();
        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(5)));
        publisher.Join();
        writer.Retired = true;
        await pipe.Writer.CompleteAsync();
        Burst(outbox, [3]);
        Assert.Equal(0, writer.UsedAfterRetired);
    }
}
