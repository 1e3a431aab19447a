using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using OpenAlgo.Appliance.Tests.Proxy;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Tests.Tls;

/// <summary>Large responses leave in full 16 KiB TLS records, as nginx sends them, not Kestrel's 4 KiB segments.</summary>
public sealed class FullRecordWriterTests
{
    [Fact]
    public async Task A_proxied_megabyte_leaves_in_16_KiB_records()
    {
        using var flask = await FlaskApp.StartTcpAsync();
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Proxy.Upstream = flask.Upstream;
            o.Proxy.RequireSessionForSocketIo = false;
        }, source: "Simulated");

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", appliance.Https.Port);
        var sniffer = new RecordSniffer(tcp.GetStream());
        await using var tls = new SslStream(sniffer, false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls12 });
        await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /download?bytes=1048576 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        long received = 0;
        var buffer = new byte[65536];
        int n;
        while ((n = await tls.ReadAsync(buffer)) > 0) received += n;
        Assert.True(received > 1 << 20);

        // Application data records (type 23): 64 full ones carry a MiB; 4 KiB segments needed 256.
        var data = sniffer.Records.Where(r => r.Type == 23).Select(r => r.Length).ToList();
        string sizes = string.Join(",", data.GroupBy(l => l).Select(g => $"{g.Key}x{g.Count()}"));
        Assert.True(data.Count < 100, $"{data.Count} records: {sizes}");
        Assert.True(data.Count(l => l >= 16384) >= 32, sizes);
    }

    [Fact]
    public async Task Small_writes_share_one_full_record_buffer_until_it_is_flushed()
    {
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(minimumSegmentSize: 4096, pauseWriterThreshold: 0));
        var writer = new FullRecordWriter(pipe.Writer);

        // 60 WebSocket-sized frames, each asking for its own small buffer, as the send loop writes them.
        for (int i = 0; i < 60; i++)
        {
            var memory = writer.GetMemory(260);
            Assert.True(memory.Length >= 260);
            memory.Span[..260].Fill((byte)i);
            writer.Advance(260);
        }
        await writer.FlushAsync();
        var read = await pipe.Reader.ReadAsync();
        Assert.Equal(60 * 260, read.Buffer.Length);
        Assert.True(read.Buffer.IsSingleSegment, "each frame got its own buffer: one TLS record per frame");
        pipe.Reader.AdvanceTo(read.Buffer.End);

        // After a flush the next write starts a full record again.
        Assert.True(writer.GetMemory(10).Length >= FullRecordWriter.RecordSize);
    }

    /// <summary>Passes the server's bytes through and notes each TLS record header (type, length).</summary>
    private sealed class RecordSniffer(Stream inner) : Stream
    {
        private readonly byte[] _header = new byte[5];
        private int _headerFill;
        private int _bodyLeft;

        public List<(byte Type, int Length)> Records { get; } = [];

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await inner.ReadAsync(buffer, cancellationToken);
            Note(buffer.Span[..n]);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            Note(buffer.AsSpan(offset, n));
            return n;
        }

        private void Note(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                if (_bodyLeft > 0)
                {
                    int skip = Math.Min(_bodyLeft, bytes.Length);
                    _bodyLeft -= skip;
                    bytes = bytes[skip..];
                    continue;
                }
                _header[_headerFill++] = bytes[0];
                bytes = bytes[1..];
                if (_headerFill == 5)
                {
                    _headerFill = 0;
                    _bodyLeft = (_header[3] << 8) | _header[4];
                    Records.Add((_header[0], _bodyLeft));
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
