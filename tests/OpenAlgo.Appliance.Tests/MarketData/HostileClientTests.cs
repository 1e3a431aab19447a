using System.Text;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.MarketData;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData;

/// <summary>
/// One client must not stall everyone: large messages are handled off the thread pool that
/// delivers ticks, one lane's worth at a time, and a client that leaves its answers unread is held
/// back instead of filling the server's memory.
/// </summary>
public sealed class HostileClientTests
{
    /// <summary>Holds every check of "slowkey" on the calling thread until released, and records where it ran.</summary>
    private sealed class BlockingAuthenticator(IApiKeyAuthenticator inner) : IApiKeyAuthenticator, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private int _inside;
        private int _mostInside;
        private int _entered;

        public int Entered => Volatile.Read(ref _entered);
        public int MostAtOnce => Volatile.Read(ref _mostInside);
        public List<(bool PoolThread, string? Name)> Threads { get; } = [];

        public ValueTask<ApiKeyCheck> CheckAsync(string apiKey, CancellationToken cancellationToken)
        {
            if (apiKey != "slowkey") return inner.CheckAsync(apiKey, cancellationToken);
            lock (Threads) Threads.Add((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
            int now = Interlocked.Increment(ref _inside);
            Interlocked.Increment(ref _entered);
            int most;
            while (now > (most = Volatile.Read(ref _mostInside)) && Interlocked.CompareExchange(ref _mostInside, now, most) != most) { }
            _release.Wait(TimeSpan.FromSeconds(60)); // blocks the thread: CPU-bound work does the same
            Interlocked.Decrement(ref _inside);
            return ValueTask.FromResult(ApiKeyCheck.Invalid);
        }

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
        }
    }

    [Fact]
    public async Task Large_messages_are_handled_off_the_thread_pool_and_ticks_keep_flowing_meanwhile()
    {
        BlockingAuthenticator? blocking = null;
        await using var appliance = await TestAppliance.StartAsync(services: s => s.AddSingleton<IApiKeyAuthenticator>(_ =>
            blocking = new BlockingAuthenticator(new StaticKeyAuthenticator(
            [
                new() { Key = "testkey", UserId = "testuser", Broker = "fakebroker" },
            ]))));
        await using var quiet = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await quiet.AuthenticateAsync();
        Assert.Contains("\"status\": \"success\"", await quiet.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1}"));
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(quiet, "NSE_RELIANCE_LTP", "{\"ltp\": 0.5}");

        // Eight clients send large messages whose handling holds its thread (here: a key check that
        // blocks; in life: a 40,000-key object or a huge symbols list being worked through).
        string padding = new('x', BulkMessageLane.Threshold);
        var hostile = new List<WsTestClient>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
                hostile.Add(client);
                await client.SendAsync("{\"action\": \"authenticate\", \"api_key\": \"slowkey\", \"padding\": \"" + padding + "\"}");
            }
            await Eventually.TrueAsync(() => blocking!.Entered >= 1, "a large message is being handled");

            // While they hold it, the quiet client gets every tick and its answers.
            for (int tick = 1; tick <= 20; tick++)
            {
                bus.Publish("NSE_RELIANCE_LTP", $"{{\"ltp\": {tick}.5}}");
                string message;
                do message = await quiet.ReceiveAsync(TimeSpan.FromSeconds(10));
                while (message.Contains("\"ltp\": 0.5"));
                Assert.Contains($"\"data\": {{\"ltp\": {tick}.5}}", message);
            }
            Assert.Contains("\"type\": \"pong\"", await quiet.AskAsync("{\"action\": \"ping\"}"));

            // The large messages ran on the lane's threads, never more at once than it has; the rest waited their turn.
            int laneThreads = Math.Max(1, Environment.ProcessorCount / 2);
            lock (blocking!.Threads)
            {
                Assert.All(blocking.Threads, t => Assert.False(t.PoolThread, "a large message was handled on a thread-pool thread"));
                Assert.All(blocking.Threads, t => Assert.StartsWith("bulk messages", t.Name));
            }
            Assert.InRange(blocking.MostAtOnce, 1, laneThreads);
            var lane = appliance.Services.GetRequiredService<BulkMessageLane>();
            await Eventually.TrueAsync(() => lane.Queued == 8 - blocking.Entered, "the other large messages wait in the lane");

            // Released, every one of them is answered, in turn.
            blocking.Release();
            foreach (var client in hostile)
            {
                Assert.Equal("{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}", await client.ReceiveAsync(TimeSpan.FromSeconds(20)));
            }
            Assert.Equal(8, blocking.Entered);
        }
        finally
        {
            blocking?.Dispose();
            foreach (var client in hostile) await client.DisposeAsync();
        }
    }

    private static string Subscribe(int symbols) =>
        "{\"action\": \"subscribe\", \"symbols\": [" + string.Join(", ", Enumerable.Range(0, symbols).Select(i => $"{{\"symbol\": \"S{i}\", \"exchange\": \"NSE\"}}")) + "], \"mode\": 1}";

    [Fact]
    public async Task A_client_that_does_not_read_its_answers_is_not_read_either()
    {
        await using var appliance = await TestAppliance.StartAsync(o => o.Limits.MessageBurst = 1000);
        using var raw = await RawWebSocket.ConnectAsync(appliance.Internal.Port, receiveBuffer: 4096);
        await raw.SendTextAsync("{\"action\": \"authenticate\", \"api_key\": \"testkey\"}");
        Assert.NotNull(await raw.ReadFrameAsync(TimeSpan.FromSeconds(10)));
        var session = Assert.Single(appliance.Hub.Sessions);

        // 600 subscribes of 2,000 symbols, 90 KB each (54 MB: more than the kernel's buffers on both
        // sides and Kestrel's take); each answer is about 210 KB. The client sends and reads nothing.
        string request = Subscribe(2000);
        const int requests = 600;
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < requests; i++) await raw.SendTextAsync(request);
        });
        await Eventually.TrueAsync(() => session.Outbox.QueuedReplyBytes > Outbox.ReplyBacklogLimit, "answers pile up unread", TimeSpan.FromSeconds(60));

        // From then on the server holds at most the backlog plus one answer: it stopped reading the client.
        long most = 0;
        for (int i = 0; i < 40; i++)
        {
            most = Math.Max(most, session.Outbox.QueuedReplyBytes);
            await Task.Delay(50);
        }
        Assert.False(sending.IsCompleted, "the client could send everything: nothing held it back");
        Assert.True(most <= Outbox.ReplyBacklogLimit + 256 * 1024, $"{most} bytes of answers held for one client");

        // Reading again, the client gets every answer, and its sends complete.
        for (int i = 0; i < requests; i++)
        {
            var frame = await raw.ReadFrameAsync(TimeSpan.FromSeconds(30));
            Assert.NotNull(frame);
            Assert.StartsWith("{\"type\": \"subscribe\", \"status\": \"success\"", Encoding.UTF8.GetString(frame.Value.Payload));
        }
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
