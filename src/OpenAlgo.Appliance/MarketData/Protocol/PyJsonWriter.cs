using System.Buffers;
using System.Globalization;

namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>
/// Writes JSON byte for byte as CPython's <c>json.dumps</c> with its defaults: ", " and ": "
/// separators, <c>ensure_ascii</c> (every char outside 0x20–0x7E as <c>\uXXXX</c>, lowercase hex),
/// Python float repr, insertion key order.
/// </summary>
internal static class PyJsonWriter
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    public static void WriteAscii(IBufferWriter<byte> output, ReadOnlySpan<byte> ascii) => output.Write(ascii);

    public static void WriteAscii(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        for (int i = 0; i < ascii.Length; i++) span[i] = (byte)ascii[i];
        output.Advance(ascii.Length);
    }

    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value)
    {
        // Worst case every char becomes \uXXXX (6 bytes) plus the quotes.
        var span = output.GetSpan(value.Length * 6 + 2);
        int pos = 0;
        span[pos++] = (byte)'"';
        foreach (char c in value)
        {
            if (c >= 0x20 && c <= 0x7e)
            {
                if (c == '"' || c == '\\')
                {
                    span[pos++] = (byte)'\\';
                }
                span[pos++] = (byte)c;
                continue;
            }
            span[pos++] = (byte)'\\';
            switch (c)
            {
                case '\n': span[pos++] = (byte)'n'; break;
                case '\r': span[pos++] = (byte)'r'; break;
                case '\t': span[pos++] = (byte)'t'; break;
                case '\b': span[pos++] = (byte)'b'; break;
                case '\f': span[pos++] = (byte)'f'; break;
                default:
                    span[pos++] = (byte)'u';
                    span[pos++] = Hex[c >> 12];
                    span[pos++] = Hex[(c >> 8) & 0xf];
                    span[pos++] = Hex[(c >> 4) & 0xf];
                    span[pos++] = Hex[c & 0xf];
                    break;
            }
        }
        span[pos++] = (byte)'"';
        output.Advance(pos);
    }

    public static void WriteInteger(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        value.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    public static void WriteDouble(IBufferWriter<byte> output, double value)
    {
        Span<char> chars = stackalloc char[PyFloat.MaxChars];
        int length = PyFloat.FormatJson(value, chars);
        var span = output.GetSpan(length);
        for (int i = 0; i < length; i++) span[i] = (byte)chars[i];
        output.Advance(length);
    }

    public static void WriteValue(IBufferWriter<byte> output, PyValue value)
    {
        switch (value)
        {
            case PyNull:
                output.Write("null"u8);
                break;
            case PyBool b:
                output.Write(b.Value ? "true"u8 : "false"u8);
                break;
            case PyInt i:
                WriteAscii(output, i.Canonical);
                break;
            case PyFloatValue f:
                WriteDouble(output, f.Value);
                break;
            case PyStr s:
                WriteString(output, s.Value);
                break;
            case PyList list:
                output.Write("["u8);
                for (int n = 0; n < list.Items.Count; n++)
                {
                    if (n > 0) output.Write(", "u8);
                    WriteValue(output, list.Items[n]);
                }
                output.Write("]"u8);
                break;
            case PyDict dict:
                output.Write("{"u8);
                for (int n = 0; n < dict.Items.Count; n++)
                {
                    if (n > 0) output.Write(", "u8);
                    WriteString(output, dict.Items[n].Key);
                    output.Write(": "u8);
                    WriteValue(output, dict.Items[n].Value);
                }
                output.Write("}"u8);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(value), value.GetType().Name, "unknown PyValue");
        }
    }

    public static byte[] Serialize(PyValue value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteValue(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }
}
