using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>Plays systemd's side of sd_notify: a bound Unix datagram socket (a path or an abstract name).</summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly string? _file;

    public NotifySocket(bool @abstract)
    {
        string name = "oa-notify-" + Guid.NewGuid().ToString("N")[..12];
        if (@abstract)
        {
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
            Address = "@" + name;
        }
        else
        {
            _file = Path.Combine(Path.GetTempPath(), name + ".sock");
            _socket.Bind(new UnixDomainSocketEndPoint(_file));
            Address = _file;
        }
        _ = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    int n = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                    _messages.Writer.TryWrite(Encoding.UTF8.GetString(buffer, 0, n));
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        });
    }

    /// <summary>What to put in NOTIFY_SOCKET.</summary>
    public string Address { get; }

    /// <summary>Waits for a datagram containing <paramref name="line"/>; returns it.</summary>
    public async Task<string> WaitForAsync(string line, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                string message = await _messages.Reader.ReadAsync(cts.Token);
                if (message.Split('\n').Any(l => l == line || l.StartsWith(line, StringComparison.Ordinal))) return message;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no datagram with '{line}' within {timeout}");
        }
    }

    /// <summary>Forgets every datagram received so far.</summary>
    public void Clear()
    {
        while (_messages.Reader.TryRead(out _)) { }
    }

    /// <summary>Counts datagrams containing <paramref name="line"/> that arrive within <paramref name="window"/>.</summary>
    public async Task<int> CountAsync(string line, TimeSpan window)
    {
        int count = 0;
        using var cts = new CancellationTokenSource(window);
        try
        {
            while (true)
            {
                string message = await _messages.Reader.ReadAsync(cts.Token);
                if (message.Split('\n').Contains(line)) count++;
            }
        }
        catch (OperationCanceledException)
        {
        }
        return count;
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (_file is not null) File.Delete(_file);
    }
}
