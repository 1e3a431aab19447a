using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// Reads SNI and the ALPN offer from a raw ClientHello record (RFC 8446 §4.1.2). Kestrel exposes
/// the bytes but not the parsed ALPN list, and TLS-ALPN-01 (RFC 8737) must answer only a client
/// that offers exactly <c>acme-tls/1</c> — browsers must keep getting the real certificate.
/// </summary>
internal static class TlsClientHello
{
    public static bool TryParse(ReadOnlySequence<byte> record, out string? serverName, out List<string> protocols)
    {
        serverName = null;
        protocols = [];
        Span<byte> buffer = record.Length <= 16384 ? stackalloc byte[(int)record.Length] : new byte[record.Length];
        record.CopyTo(buffer);
        try
        {
            var r = new Reader(buffer);
            if (r.U8() != 0x16) return false;           // handshake record
            r.Skip(2);                                  // legacy record version
            r.Skip(2);                                  // record length
            if (r.U8() != 0x01) return false;           // ClientHello
            r.Skip(3);                                  // handshake length
            r.Skip(2 + 32);                             // client version, random
            r.Skip(r.U8());                             // session id
            r.Skip(r.U16());                            // cipher suites
            r.Skip(r.U8());                             // compression methods
            int extensionsEnd = r.U16() + r.Position;
            while (r.Position + 4 <= extensionsEnd)
            {
                int type = r.U16();
                int length = r.U16();
                int end = r.Position + length;
                if (type == 0x0000)
                {
                    r.Skip(2);                          // server_name_list length
                    if (r.U8() == 0) serverName = Encoding.ASCII.GetString(r.Bytes(r.U16()));
                }
                else if (type == 0x0010)
                {
                    int listEnd = r.U16() + r.Position;
                    while (r.Position < listEnd) protocols.Add(Encoding.ASCII.GetString(r.Bytes(r.U8())));
                }
                r.Position = end;
            }
            return true;
        }
        catch (IndexOutOfRangeException)
        {
            return false;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private ref struct Reader(Span<byte> data)
    {
        private readonly Span<byte> _data = data;
        public int Position;
        public byte U8() => _data[Position++];
        public int U16() { int v = BinaryPrimitives.ReadUInt16BigEndian(_data[Position..]); Position += 2; return v; }
        public void Skip(int n) { Position += n; if (Position > _data.Length) throw new IndexOutOfRangeException(); }
        public ReadOnlySpan<byte> Bytes(int n) { var s = _data.Slice(Position, n); Position += n; return s; }
    }
}
