using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// A TCP relay in front of a server that can play the server's death: every connection reset
/// (RST, no close frame) and new ones refused for a while — at once, or the moment a marker
/// (bytes the server sends, such as its authenticate reply) passes through, so the server "dies"
/// at a chosen step of a client's resynchronisation.
/// </summary>
internal sealed class FaultyLink : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly List<(Socket Client, Socket Server)> _pairs = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _downUntil;
    private (byte[] Marker, TimeSpan Down, TaskCompletionSource Fired)? _armed;

    public FaultyLink(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, TestAppliance.FreeTcpPort());
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections { get { lock (_pairs) return _pairs.Count; } }

    /// <summary>Resets every connection now and refuses new ones for <paramref name="down"/>.</summary>
    public void Kill(TimeSpan down)
    {
        Volatile.Write(ref _downUntil, Environment.TickCount64 + (long)down.TotalMilliseconds);
        List<(Socket, Socket)> pairs;
        lock (_pairs)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }
        foreach (var (client, server) in pairs)
        {
            Reset(client);
            Reset(server);
        }
    }

    /// <summary>Kills (as <see cref="Kill"/>) when the server next sends <paramref name="marker"/>; the task completes then.</summary>
    public Task KillWhenServerSends(string marker, TimeSpan down)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _armed = (Encoding.UTF8.GetBytes(marker), down, fired);
        return fired.Task;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            if (Environment.TickCount64 < Volatile.Read(ref _downUntil))
            {
                Reset(client); // the server is "down": nothing listens behind the port
                continue;
            }
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target);
            }
            catch (SocketException)
            {
                Reset(client);
                server.Dispose();
                continue;
            }
            client.NoDelay = true;
            lock (_pairs) _pairs.Add((client, server));
            _ = PumpAsync(client, server, watch: false);
            _ = PumpAsync(server, client, watch: true);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool watch)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                if (watch && _armed is { } armed && buffer.AsSpan(0, n).IndexOf(armed.Marker) >= 0)
                {
                    _armed = null;
                    // The reply never reaches the client: the server dies right after sending it.
                    Kill(armed.Down);
                    armed.Fired.TrySetResult();
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST, as a killed process's kernel does for unread data
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Kill(TimeSpan.Zero);
        try { await _accepting; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
