using System.IO.Pipelines;
using System.Net;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Tests.MarketData.Hub;

/// <summary>A burst of ticks published as one batch wakes each recipient's send loop once: one flush per client per burst.</summary>
public sealed class WakeBatchTests
{
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        public int Flushes;

        public override void Advance(int bytes) => inner.Advance(bytes);
        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Flushes);
            return inner.FlushAsync(cancellationToken);
        }
    }

    [Fact]
    public async Task Ticks_of_a_batch_are_flushed_once_per_client_when_the_batch_ends()
    {
        var hub = new MarketDataHub();
        var key = new SymbolKey("NSE", "RELIANCE");
        var clients = new List<(ClientSession Session, Pipe Pipe, CountingWriter Writer, Task<bool> Run)>();
        for (int i = 0; i < 3; i++)
        {
            var session = new ClientSession("internal", IPAddress.Loopback, new Outbox(1000, TimeProvider.System), TimeProvider.System, 10);
            Assert.True(hub.TryRegister(session));
            hub.Authorize(session, "u", "zerodha");
            Assert.Null(hub.Reserve(session, key, ModeTags.Bit(1)));
            hub.Route(session, key);
            var pipe = new Pipe();
            var writer = new CountingWriter(pipe.Writer);
            clients.Add((session, pipe, writer, session.Outbox.RunAsync(writer)));
        }

        MarketDataHub.BeginBatch();
        for (int i = 0; i < 50; i++) hub.Publish(key, 1, "{\"ltp\": 1.5}"u8);
        Thread.Sleep(200); // a send loop woken per tick would have flushed by now (and the batch is this thread's: no await inside it)
        Assert.All(clients, c => Assert.Equal(0, c.Writer.Flushes));
        MarketDataHub.EndBatch();

        foreach (var c in clients)
        {
            var read = await c.Pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            string text = System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(read.Buffer));
            Assert.Equal(50, text.Split("\"ltp\": 1.5").Length - 1);
            c.Pipe.Reader.AdvanceTo(read.Buffer.End);
            Assert.Equal(1, c.Writer.Flushes);
        }

        // Outside a batch every tick wakes the loop at once, as before.
        hub.Publish(key, 1, "{\"ltp\": 2.5}"u8);
        foreach (var c in clients)
        {
            var read = await c.Pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Contains("2.5", System.Text.Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(read.Buffer)));
            c.Pipe.Reader.AdvanceTo(read.Buffer.End);
            c.Session.Outbox.Complete();
            await c.Run;
        }
    }
}
