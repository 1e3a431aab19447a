using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace OpenAlgo.Appliance.MarketData.Sources.Zmtp;

/// <summary>
/// The bus's SUB socket without a messaging library: a listener on the bound endpoint and the
/// publishers connected to it, all served by the caller's thread with one <c>poll(2)</c>. A wake-up
/// reads everything each publisher sent since the last one (ticks arrive in bursts: a broker
/// adapter's callback, a feeder's batch), so the cost of waking is paid per burst, not per tick.
/// Back-pressure is TCP's: while the hub is busy the kernel buffers (autotuned, megabytes) and then
/// the publisher's own high-water mark hold what arrives, as with any ZeroMQ subscriber.
/// <para>
/// Replaces NetMQ (measured at <c>a9d9570</c>, 20,000 ticks/s: its I/O thread spent 30 % of the
/// server's CPU, two thirds of it spinning in <c>sched_yield</c> — 18,000 calls a second — and the
/// receiving thread another 4 % polling NetMQ's signaler; docs/benchmarks.md).
/// </para>
/// </summary>
internal sealed partial class ZmtpSubscriber : IDisposable
{
    /// <summary>Connections beyond this are closed at once: OpenAlgo has a handful of publishers (adapters, Flask).</summary>
    public const int MaxPublishers = 256;

    private const short PollIn = 0x001;

    private readonly Socket _listener;
    private readonly string? _socketPath;
    private readonly List<ZmtpPeer> _peers = [];
    private PollFd[] _fds = new PollFd[8];

    private ZmtpSubscriber(Socket listener, string? socketPath) => (_listener, _socketPath) = (listener, socketPath);

    /// <summary>Binds <paramref name="endpoint"/>; throws <see cref="SocketException"/> or <see cref="FormatException"/>.</summary>
    public static ZmtpSubscriber Bind(string endpoint)
    {
        var parsed = ZmtpEndpoint.Parse(endpoint);
        return new(parsed.Bind(), parsed.SocketPath);
    }

    /// <summary>Raised on the polling thread: a publisher connected (handshake done), left, or was refused (with why).</summary>
    public Action<ZmtpPeer>? Connected { get; set; }
    public Action<ZmtpPeer, string?>? Disconnected { get; set; }

    public int Publishers => _peers.Count;

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> for publishers, then accepts new ones and
    /// hands every complete message that arrived to <paramref name="handler"/>. Returns the number of
    /// sockets that were ready.
    /// </summary>
    public unsafe int Poll(int timeoutMilliseconds, ZmtpMessageHandler handler)
    {
        int count = 1 + _peers.Count;
        if (_fds.Length < count) _fds = new PollFd[Math.Max(count, _fds.Length * 2)];
        _fds[0] = new PollFd { Fd = (int)_listener.SafeHandle.DangerousGetHandle(), Events = PollIn };
        for (int i = 0; i < _peers.Count; i++)
        {
            _fds[i + 1] = new PollFd { Fd = (int)_peers[i].Socket.SafeHandle.DangerousGetHandle(), Events = PollIn };
        }
        int ready;
        fixed (PollFd* fds = _fds)
        {
            ready = PollNative(fds, (nuint)count, timeoutMilliseconds);
        }
        if (ready <= 0) return 0; // timeout, or EINTR: the caller loops

        // Peers first (their indexes match _fds), newcomers after.
        for (int i = _peers.Count - 1; i >= 0; i--)
        {
            if (_fds[i + 1].Revents == 0) continue;
            var peer = _peers[i];
            bool wasReady = peer.IsReady;
            string? problem;
            bool open;
            try
            {
                open = peer.OnReadable(handler, out problem);
            }
            catch (ObjectDisposedException)
            {
                (open, problem) = (false, null);
            }
            if (!open)
            {
                _peers.RemoveAt(i);
                peer.Dispose();
                Disconnected?.Invoke(peer, problem);
            }
            else if (!wasReady && peer.IsReady)
            {
                Connected?.Invoke(peer);
            }
        }
        if (_fds[0].Revents != 0) AcceptPending();
        return ready;
    }

    private void AcceptPending()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (SocketException)
            {
                return; // nothing more to accept (EAGAIN), or the connection went away before we took it
            }
            socket.Blocking = false;
            if (socket.AddressFamily != AddressFamily.Unix) socket.NoDelay = true;
            var peer = new ZmtpPeer(socket);
            if (_peers.Count >= MaxPublishers)
            {
                peer.Dispose();
                Disconnected?.Invoke(peer, $"more than {MaxPublishers} publishers connected");
                continue;
            }
            if (!peer.Start(out string? problem))
            {
                peer.Dispose();
                Disconnected?.Invoke(peer, problem);
                continue;
            }
            _peers.Add(peer);
        }
    }

    public void Dispose()
    {
        foreach (var peer in _peers) peer.Dispose();
        _peers.Clear();
        _listener.Dispose();
        if (_socketPath is not null)
        {
            // As libzmq on close: the path goes with the listener.
            try { File.Delete(_socketPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int PollNative(PollFd* fds, nuint count, int timeout);
}
