using System.Diagnostics;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.Zmtp;

/// <summary>
/// OpenAlgo's own publishers are pyzmq on libzmq (Debian's python3-zmq here): they reach clients
/// through the bus byte for byte, over tcp:// and ipc://, directly and through an XSUB/XPUB
/// forwarder (which forwards a publisher's ticks only once the bus's subscription reached it).
/// </summary>
public sealed class LibzmqPublisherTests
{
    private const string Payload = "{\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}";
    private const string Expected = "{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}, \"broker\": \"fakebroker\"}";

    public static TheoryData<string, bool> Cases => new()
    {
        { "tcp", false },
        { "ipc", false },
        { "tcp", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_pyzmq_publisher_reaches_subscribed_clients(string transport, bool forwarder)
    {
        string socketPath = Path.Combine(Path.GetTempPath(), $"oa-bus-{Guid.NewGuid():N}.sock");
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            if (transport == "ipc") o.MarketData.ZmqEndpoint = $"ipc://{socketPath}";
        });
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        await client.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1}");

        using var publisher = Start(appliance.ZmqEndpoint, forwarder);
        try
        {
            Assert.Equal("ready", await publisher.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
            await publisher.StandardInput.WriteLineAsync($"NSE_RELIANCE_LTP {Payload}");
            await publisher.StandardInput.FlushAsync();
            Assert.Equal(Expected, await client.ReceiveAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            publisher.StandardInput.Close();
            if (!publisher.WaitForExit(5000)) publisher.Kill(entireProcessTree: true);
        }
        if (transport == "ipc") Assert.True(File.Exists(socketPath));
    }

    private static Process Start(string endpoint, bool forwarder)
    {
        var start = new ProcessStartInfo(Python.Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MarketData", "Sources", "Zmtp", "libzmq_publisher.py"));
        start.ArgumentList.Add(endpoint);
        if (forwarder) start.ArgumentList.Add("--forwarder");
        return Process.Start(start)!;
    }
}
