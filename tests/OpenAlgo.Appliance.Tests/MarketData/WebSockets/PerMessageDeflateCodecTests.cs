using System.IO.Compression;
using System.Text;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.Tests.MarketData.WebSockets;

/// <summary>The compressor and the per-connection inflater against RFC 7692 §7.2.3's examples and each other.</summary>
public sealed class PerMessageDeflateCodecTests
{
    private const string Tick = "{\"type\": \"market_data\", \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"data\": {\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}, \"broker\": \"fakebroker\"}";

    [Fact]
    public void A_compressed_frame_has_rsv1_and_inflates_to_the_message_without_any_earlier_context()
    {
        byte[] payload = Encoding.UTF8.GetBytes(Tick);
        byte[] frame = MessageDeflater.Current.BuildFrame(WebSocketFrames.OpText, payload)!;
        Assert.Equal(0x80 | 0x40 | 0x1, frame[0]); // FIN, RSV1, text
        int header = WebSocketFrames.HeaderLengthOf(frame);
        Assert.Equal(frame.Length - header, header == 2 ? frame[1] : frame[2] << 8 | frame[3]);
        Assert.True(frame.Length - header < payload.Length * 3 / 4, $"compressed to {frame.Length - header} of {payload.Length} bytes");

        // A fresh inflater per message (what a client does with server_no_context_takeover).
        Assert.Equal(payload, InflateFresh(frame.AsSpan(header).ToArray()));
        // The same message twice gives the same bytes: nothing carries over between messages.
        Assert.Equal(frame, MessageDeflater.Current.BuildFrame(WebSocketFrames.OpText, payload));
    }

    [Fact]
    public void Nothing_is_compressed_when_it_would_not_get_smaller()
    {
        Assert.Null(MessageDeflater.Current.BuildFrame(WebSocketFrames.OpText, "{}"u8));
        Assert.Null(MessageDeflater.Current.BuildFrame(WebSocketFrames.OpText, System.Security.Cryptography.RandomNumberGenerator.GetBytes(300)));
    }

    [Fact]
    public void Large_messages_get_the_longer_length_forms()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 4000; i++) text.Append(i).Append(',');
        byte[] payload = Encoding.UTF8.GetBytes(text.ToString());
        byte[] frame = MessageDeflater.Current.BuildFrame(WebSocketFrames.OpText, payload)!;
        Assert.Equal(126, frame[1]);
        Assert.Equal(payload, InflateFresh(frame.AsSpan(4).ToArray()));
    }

    [Fact]
    public void Rfc_7692_examples_inflate_with_context_takeover()
    {
        using var inflater = new MessageInflater(noContextTakeover: false, maxMessageBytes: 1 << 20);
        // §7.2.3.1: "Hello" in one compressed message.
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(new byte[] { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 }, out var first));
        Assert.Equal("Hello", Encoding.UTF8.GetString(first.Span));
        inflater.Release();
        // §7.2.3.2: a second "Hello" that refers back into the first message's window.
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(new byte[] { 0xf2, 0x00, 0x11, 0x00, 0x00 }, out var second));
        Assert.Equal("Hello", Encoding.UTF8.GetString(second.Span));
    }

    [Fact]
    public void Without_context_takeover_a_back_reference_to_an_earlier_message_is_refused()
    {
        using var inflater = new MessageInflater(noContextTakeover: true, maxMessageBytes: 1 << 20);
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(new byte[] { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 }, out _));
        inflater.Release();
        Assert.Equal(InflateStatus.Invalid, inflater.Inflate(new byte[] { 0xf2, 0x00, 0x11, 0x00, 0x00 }, out _));
    }

    [Fact]
    public void A_block_with_bfinal_ends_the_message_and_the_next_one_still_inflates()
    {
        // §7.2.3.3: "Hello" in a block with BFINAL set, then an empty stored block's header.
        using var inflater = new MessageInflater(noContextTakeover: false, maxMessageBytes: 1 << 20);
        byte[] bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(bfinal, out var first));
        Assert.Equal("Hello", Encoding.UTF8.GetString(first.Span));
        inflater.Release();
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(new byte[] { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 }, out var second));
        Assert.Equal("Hello", Encoding.UTF8.GetString(second.Span));
    }

    [Fact]
    public void Garbage_is_invalid()
    {
        using var inflater = new MessageInflater(noContextTakeover: false, maxMessageBytes: 1 << 20);
        Assert.Equal(InflateStatus.Invalid, inflater.Inflate(new byte[] { 0xff, 0xff, 0xff, 0x01, 0x02 }, out _));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_compression_bomb_stops_at_the_limit(bool noContextTakeover)
    {
        const int limit = 1 << 20;
        byte[] bomb = DeflateSyncFlushed(new byte[64 << 20]); // 64 MiB of zeros in about 64 KiB
        Assert.True(bomb.Length < 100_000);
        using var inflater = new MessageInflater(noContextTakeover, limit);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(InflateStatus.TooBig, inflater.Inflate(bomb, out _));
        // Inflating stopped at the limit: buffers for about 1 MiB (pooled, doubling), not for 64 MiB.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 8 << 20);

        // Exactly at the limit is still fine.
        using var exact = new MessageInflater(noContextTakeover, limit);
        Assert.Equal(InflateStatus.Ok, exact.Inflate(DeflateSyncFlushed(new byte[limit]), out var message));
        Assert.Equal(limit, message.Length);
    }

    [Fact]
    public void A_client_that_keeps_its_context_is_followed_across_many_messages()
    {
        // What browsers and Python websockets do: one compressor for the whole connection, a sync flush per message.
        var wire = new MemoryStream();
        using var client = new DeflateStream(wire, CompressionLevel.Optimal, leaveOpen: true);
        using var inflater = new MessageInflater(noContextTakeover: false, maxMessageBytes: 1 << 20);
        for (int i = 0; i < 50; i++)
        {
            string text = $"{{\"action\": \"subscribe\", \"symbols\": [{{\"symbol\": \"SYM{i % 7}\", \"exchange\": \"NSE\"}}], \"mode\": {1 + i % 3}}}";
            wire.SetLength(0);
            client.Write(Encoding.UTF8.GetBytes(text));
            client.Flush();
            byte[] message = wire.ToArray()[..^4];
            Assert.Equal(InflateStatus.Ok, inflater.Inflate(message, out var inflated));
            Assert.Equal(text, Encoding.UTF8.GetString(inflated.Span));
            inflater.Release();
        }
    }

    private static byte[] DeflateSyncFlushed(byte[] data)
    {
        var wire = new MemoryStream();
        using (var deflate = new DeflateStream(wire, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();
            return wire.ToArray()[..^4];
        }
    }

    private static byte[] InflateFresh(byte[] compressed)
    {
        using var input = new MemoryStream([.. compressed, 0x00, 0x00, 0xFF, 0xFF]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        var output = new MemoryStream();
        inflate.CopyTo(output);
        return output.ToArray();
    }
}
