using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram per message to <c>$NOTIFY_SOCKET</c> (a path, or
/// <c>@name</c> for the abstract namespace). .NET's own SystemdNotifier is not used because its
/// registration never happens under <c>ProtectProc=invisible</c> and it has no watchdog or status.
/// </summary>
internal sealed class SdNotify : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Lock _gate = new();

    public SdNotify(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket)) return;
        string path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        _endPoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public bool IsEnabled => _socket is not null;

    /// <summary>Sends newline-separated <c>KEY=VALUE</c> lines; failures are swallowed (systemd may be restarting).</summary>
    public bool Notify(string state)
    {
        if (_socket is null) return false;
        try
        {
            lock (_gate) _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endPoint!);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Ready(string status) => Notify($"READY=1\nSTATUS={status}");
    public void Status(string status) => Notify($"STATUS={status}");
    public void Stopping() => Notify("STOPPING=1\nSTATUS=stopping");
    public void Watchdog() => Notify("WATCHDOG=1");

    /// <summary>RELOADING=1 with CLOCK_MONOTONIC in µs, which systemd ≥ 253 needs to match the reload job.</summary>
    public void Reloading() => Notify($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}\nSTATUS=reloading configuration");

    /// <summary>Stopwatch is CLOCK_MONOTONIC on Linux.</summary>
    public static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    public void Dispose() => _socket?.Dispose();
}
