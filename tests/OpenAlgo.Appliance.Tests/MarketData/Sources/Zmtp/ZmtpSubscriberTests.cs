using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OpenAlgo.Appliance.MarketData.Sources.Zmtp;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.Zmtp;

/// <summary>
/// The bus's own ZeroMQ SUB socket (ZMTP 3.0) against raw peers that write the protocol byte by
/// byte: the handshake it sends, messages however the bytes arrive, and what it refuses. Real
/// publishers (NetMQ in most tests, libzmq through pyzmq in <see cref="LibzmqPublisherTests"/>)
/// cover interoperability.
/// </summary>
public sealed class ZmtpSubscriberTests
{
    private static readonly byte[] PeerGreeting = Greeting("NULL");

    private static byte[] Greeting(string mechanism)
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        greeting[11] = 1; // libzmq 4.3 offers 3.1
        Encoding.ASCII.GetBytes(mechanism).CopyTo(greeting, 12);
        return greeting;
    }

    private static byte[] Ready(string socketType)
    {
        var body = new List<byte> { 5 };
        body.AddRange("READY"u8.ToArray());
        body.Add(11);
        body.AddRange("Socket-Type"u8.ToArray());
        body.AddRange([0, 0, 0, (byte)socketType.Length]);
        body.AddRange(Encoding.ASCII.GetBytes(socketType));
        return [4, (byte)body.Count, .. body];
    }

    private static byte[] Frame(byte[] body, bool more, bool forceLong = false)
    {
        if (body.Length > 255 || forceLong)
        {
            var header = new byte[9];
            header[0] = (byte)(2 | (more ? 1 : 0));
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(1), (ulong)body.Length);
            return [.. header, .. body];
        }
        return [(byte)(more ? 1 : 0), (byte)body.Length, .. body];
    }

    private static byte[] Message(string topic, string payload) =>
        [.. Frame(Encoding.UTF8.GetBytes(topic), more: true), .. Frame(Encoding.UTF8.GetBytes(payload), more: false)];

    /// <summary>A subscriber bound on a free port, polled on its own thread until disposed.</summary>
    private sealed class Bus : IDisposable
    {
        private readonly ZmtpSubscriber _subscriber;
        private readonly Thread _thread;
        private volatile bool _stop;

        public Bus(string? endpoint = null)
        {
            Port = TestAppliance.FreeTcpPort();
            _subscriber = ZmtpSubscriber.Bind(endpoint ?? $"tcp://127.0.0.1:{Port}");
            _subscriber.Disconnected = (_, problem) => { lock (Problems) Problems.Add(problem ?? "(orderly)"); };
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    _subscriber.Poll(50, (topic, payload) =>
                    {
                        lock (Messages) Messages.Add((Encoding.UTF8.GetString(topic), Encoding.UTF8.GetString(payload)));
                    });
                }
                _subscriber.Dispose();
            }) { IsBackground = true };
            _thread.Start();
        }

        public int Port { get; }
        public List<(string Topic, string Payload)> Messages { get; } = [];
        public List<string> Problems { get; } = [];

        public Socket Connect()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 5000 };
            socket.Connect(IPAddress.Loopback, Port);
            return socket;
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join(2000);
        }
    }

    private static byte[] ReadExactly(Socket socket, int count)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = socket.Receive(buffer, read, count - read, SocketFlags.None);
            if (n == 0) throw new IOException($"closed after {read} of {count} bytes");
            read += n;
        }
        return buffer;
    }

    private static Socket Handshake(Bus bus, string socketType = "PUB")
    {
        var socket = bus.Connect();
        socket.Send(PeerGreeting);
        socket.Send(Ready(socketType));
        return socket;
    }

    [Fact]
    public void Sends_a_ZMTP_3_0_NULL_greeting_then_READY_as_SUB_and_a_subscription_to_every_topic()
    {
        using var bus = new Bus();
        using var socket = bus.Connect();
        byte[] greeting = ReadExactly(socket, 64);
        Assert.Equal(0xFF, greeting[0]);
        Assert.Equal(0x7F, greeting[9]);
        Assert.Equal([3, 0], greeting[10..12]); // 3.0: libzmq then sends subscriptions as messages, which NetMQ 4 also speaks
        Assert.Equal("NULL", Encoding.ASCII.GetString(greeting, 12, 4));
        Assert.All(greeting[16..64], b => Assert.Equal(0, b));

        socket.Send(PeerGreeting);
        byte[] ready = ReadExactly(socket, 27);
        Assert.Equal([4, 25, 5, .. "READY"u8.ToArray(), 11, .. "Socket-Type"u8.ToArray(), 0, 0, 0, 3, .. "SUB"u8.ToArray()], ready);
        Assert.Equal([0, 1, 1], ReadExactly(socket, 3)); // subscribe (0x01) to the empty prefix
    }

    [Fact]
    public async Task Messages_are_delivered_however_their_bytes_are_split_and_however_many_arrive_at_once()
    {
        using var bus = new Bus();
        using var socket = Handshake(bus);
        // Byte by byte: every header and body boundary is a partial read.
        foreach (byte b in Message("NSE_INFY_LTP", "{\"ltp\": 1.5}"))
        {
            socket.Send([b]);
            Thread.Sleep(1);
        }
        // Then 500 messages in one write, plus a long-form (8-byte size) frame and a payload larger than the 64 KiB buffer.
        var burst = new List<byte>();
        for (int i = 0; i < 500; i++) burst.AddRange(Message($"NSE_S{i}_LTP", $"{{\"ltp\": {i}}}"));
        burst.AddRange([.. Frame("NSE_LONG_QUOTE"u8.ToArray(), more: true, forceLong: true), .. Frame("{}"u8.ToArray(), more: false, forceLong: true)]);
        string big = "{\"depth\": \"" + new string('x', 200_000) + "\"}";
        burst.AddRange(Message("NSE_BIG_DEPTH", big));
        socket.Send(burst.ToArray());

        await Eventually.TrueAsync(() => { lock (bus.Messages) return bus.Messages.Count == 503; }, "the bus", TimeSpan.FromSeconds(10));
        lock (bus.Messages)
        {
            Assert.Equal(("NSE_INFY_LTP", "{\"ltp\": 1.5}"), bus.Messages[0]);
            Assert.Equal(("NSE_S499_LTP", "{\"ltp\": 499}"), bus.Messages[500]);
            Assert.Equal(("NSE_LONG_QUOTE", "{}"), bus.Messages[501]);
            Assert.Equal(("NSE_BIG_DEPTH", big), bus.Messages[502]);
        }
        Assert.Empty(bus.Problems);
    }

    [Fact]
    public async Task Single_frame_messages_and_frames_past_the_second_are_ignored_and_a_ping_is_answered()
    {
        using var bus = new Bus();
        using var socket = Handshake(bus);
        ReadExactly(socket, 64 + 27 + 3);
        socket.Send([
            .. Frame("lonely"u8.ToArray(), more: false),
            .. Frame("NSE_A_LTP"u8.ToArray(), more: true), .. Frame("{\"ltp\": 1}"u8.ToArray(), more: true), .. Frame("extra"u8.ToArray(), more: false),
            4, 12, 4, .. "PING"u8.ToArray(), 0, 10, .. "ctx12"u8.ToArray(),
        ]);
        Assert.Equal([4, 10, 4, .. "PONG"u8.ToArray(), .. "ctx12"u8.ToArray()], ReadExactly(socket, 12));
        await Eventually.TrueAsync(() => { lock (bus.Messages) return bus.Messages.Count == 1; }, "the bus", TimeSpan.FromSeconds(5));
        Assert.Equal(("NSE_A_LTP", "{\"ltp\": 1}"), bus.Messages.Single());
    }

    [Theory]
    [InlineData("CURVE", "PUB", "security mechanism CURVE")]
    [InlineData("NULL", "REQ", "a REQ cannot publish to the bus")]
    [InlineData("HTTP", "", "not a ZeroMQ 3.x peer")]
    public async Task Peers_that_cannot_publish_are_refused_and_others_keep_flowing(string mechanism, string socketType, string problem)
    {
        using var bus = new Bus();
        using var good = Handshake(bus);
        using var bad = bus.Connect();
        if (mechanism == "HTTP") bad.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        else
        {
            bad.Send(Greeting(mechanism));
            bad.Send(Ready(socketType));
        }
        await Eventually.TrueAsync(() => { lock (bus.Problems) return bus.Problems.Count == 1; }, "the bus", TimeSpan.FromSeconds(5));
        Assert.Contains(problem, bus.Problems.Single());
        // The refused connection is closed…
        bad.ReceiveTimeout = 5000;
        var sink = new byte[256];
        int total = 0, n;
        while ((n = bad.Receive(sink)) > 0) total += n;
        Assert.Equal(0, n);
        // …and the good publisher still delivers.
        good.Send(Message("NSE_OK_LTP", "{}"));
        await Eventually.TrueAsync(() => { lock (bus.Messages) return bus.Messages.Count == 1; }, "the bus", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_message_over_the_limit_closes_that_publisher()
    {
        using var bus = new Bus();
        using var socket = Handshake(bus);
        var header = new byte[9];
        header[0] = 2;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(1), (ulong)ZmtpPeer.MaxMessageBytes + 1);
        socket.Send(header);
        await Eventually.TrueAsync(() => { lock (bus.Problems) return bus.Problems.Count == 1; }, "the bus", TimeSpan.FromSeconds(5));
        Assert.Contains("larger than 16 MiB", bus.Problems.Single());
    }

    [Fact]
    public async Task Ipc_endpoints_are_unix_sockets_removed_on_close_and_a_live_one_is_not_stolen()
    {
        string path = Path.Combine(Path.GetTempPath(), $"oa-zmtp-{Guid.NewGuid():N}.sock");
        using (var bus = new Bus($"ipc://{path}"))
        {
            await Eventually.TrueAsync(() => File.Exists(path), "the bus", TimeSpan.FromSeconds(2));
            var error = Assert.Throws<SocketException>(() => ZmtpSubscriber.Bind($"ipc://{path}").Dispose());
            Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);

            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Send([.. PeerGreeting, .. Ready("PUB"), .. Message("NSE_IPC_LTP", "{}")]);
            await Eventually.TrueAsync(() => { lock (bus.Messages) return bus.Messages.Count == 1; }, "the bus", TimeSpan.FromSeconds(5));
        }
        await Eventually.TrueAsync(() => !File.Exists(path), "the bus", TimeSpan.FromSeconds(5));
    }
}
