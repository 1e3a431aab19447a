using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>A real ZeroMQ PUB that connects to the appliance's bus, as OpenAlgo's broker adapters do.</summary>
internal sealed class BusPublisher : IDisposable
{
    private readonly PublisherSocket _socket = new();

    public BusPublisher(string endpoint)
    {
        _socket.Options.SendHighWatermark = 100_000;
        _socket.Connect(endpoint);
    }

    public void Publish(string topic, string payload) => _socket.SendMoreFrame(topic).SendFrame(Encoding.UTF8.GetBytes(payload));

    /// <summary>
    /// ZeroMQ's slow joiner drops messages sent before the connection is up: publish a warm-up tick
    /// until <paramref name="client"/> sees it, then return that message.
    /// </summary>
    public async Task<string> PublishUntilReceivedAsync(WsTestClient client, string topic, string payload)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        int attempts = 0;
        while (DateTime.UtcNow < deadline)
        {
            Publish(topic, payload);
            attempts++;
            try
            {
                string received = await client.ReceiveAsync(TimeSpan.FromMilliseconds(200));
                // Earlier attempts may still arrive (slow, not lost): the test must not read them as what comes next.
                client.SkipLateCopies(received, attempts - 1);
                return received;
            }
            catch (TimeoutException)
            {
            }
        }
        throw new TimeoutException("the bus never delivered");
    }

    public void Dispose() => _socket.Dispose();
}
