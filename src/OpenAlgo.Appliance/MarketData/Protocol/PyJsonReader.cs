using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>
/// A JSON reader with the grammar of CPython's <c>json.loads</c> (strict mode): NaN, Infinity and
/// -Infinity literals are accepted, control characters inside strings are not, lone surrogate
/// escapes survive, a number with a fraction or exponent is a float and any other is an int.
/// It either builds a <see cref="PyValue"/> (client messages) or re-emits the document in
/// <c>json.dumps</c> form without building anything (the per-tick path: OpenAlgo re-serializes
/// every market-data payload, so "800.10" reaches clients as "800.1").
/// </summary>
internal ref struct PyJsonReader
{
    /// <summary>
    /// CPython raises RecursionError near 1000 levels (its recursion limit less the frames already on
    /// the stack, so the exact level depends on the caller); we refuse at half that, well before our
    /// own stack cares, with the same error. No message of OpenAlgo's protocol nests deeper than 4.
    /// </summary>
    public const int MaxDepth = 512;

    /// <summary>
    /// Keys every message repeats, shared instead of allocated per occurrence: a 3,000-symbol
    /// subscribe has 6,000 of them. With <see cref="SmallInts"/> a third less garbage per entry.
    /// </summary>
    private static readonly string[] CommonKeys = ["symbol", "exchange", "mode", "action", "type", "symbols", "depth", "request_id", "api_key", "apikey"];

    /// <summary>Immutable, so shared: 0–255 (modes, depths, quantities), as CPython caches its small ints.</summary>
    private static readonly PyInt[] SmallInts = Enumerable.Range(0, 256).Select(i => new PyInt(i)).ToArray();

    /// <summary>Bytes json.dumps writes as they are inside a string (ensure_ascii: printable ASCII but '"' and '\\').</summary>
    private static readonly SearchValues<byte> PlainStringBytes = SearchValues.Create(
        Enumerable.Range(0x20, 0x7F - 0x20).Where(b => b != '"' && b != '\\').Select(b => (byte)b).ToArray());

    private readonly ReadOnlySpan<byte> _input;
    private int _pos;
    private int _depth;
    private char[] _scratch;
    private readonly int _maxKeys;
    private readonly int _maxItems;

    private PyJsonReader(ReadOnlySpan<byte> input, char[] scratch, int maxKeysPerObject = int.MaxValue, int maxItemsPerArray = int.MaxValue)
    {
        _input = input;
        _pos = 0;
        _depth = 0;
        _scratch = scratch;
        _maxKeys = maxKeysPerObject;
        _maxItems = maxItemsPerArray;
    }

    /// <summary>
    /// Parses a whole UTF-8 document; throws <see cref="PyJsonException"/> on anything json.loads
    /// rejects, <see cref="PyJsonDepthException"/> past <see cref="MaxDepth"/> levels,
    /// <see cref="PyJsonKeyLimitException"/> at an object's key number <paramref name="maxKeysPerObject"/> + 1
    /// (distinct keys and repeats alike: the bound is on work) and <see cref="PyJsonItemLimitException"/>
    /// at an array's item number <paramref name="maxItemsPerArray"/> + 1 — both as soon as they are
    /// met, so what is refused is not read (nor built) to its end. Cost is linear in the input.
    /// </summary>
    public static PyValue Parse(ReadOnlySpan<byte> utf8, int maxKeysPerObject = int.MaxValue, int maxItemsPerArray = int.MaxValue)
    {
        if (!Utf8.IsValid(utf8)) throw new PyJsonException("invalid UTF-8");
        var reader = new PyJsonReader(utf8, ArrayPool<char>.Shared.Rent(256), maxKeysPerObject, maxItemsPerArray);
        try
        {
            reader.SkipWhitespace();
            var value = reader.ParseValue();
            reader.SkipWhitespace();
            if (reader._pos != utf8.Length) throw new PyJsonException("Extra data");
            return value;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(reader._scratch);
        }
    }

    /// <summary>Re-emits a UTF-8 document as json.dumps would after json.loads; false when it is not JSON.</summary>
    public static bool TryRewrite(ReadOnlySpan<byte> utf8, IBufferWriter<byte> output)
    {
        if (!Utf8.IsValid(utf8)) return false;
        var reader = new PyJsonReader(utf8, ArrayPool<char>.Shared.Rent(256));
        try
        {
            reader.SkipWhitespace();
            reader.RewriteValue(output);
            reader.SkipWhitespace();
            return reader._pos == utf8.Length;
        }
        catch (PyJsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(reader._scratch);
        }
    }

    private void SkipWhitespace()
    {
        while (_pos < _input.Length)
        {
            byte b = _input[_pos];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return;
            _pos++;
        }
    }

    private readonly byte Peek() => _pos < _input.Length ? _input[_pos] : (byte)0;

    private void Expect(byte b)
    {
        if (Peek() != b) throw new PyJsonException($"Expecting '{(char)b}'");
        _pos++;
    }

    private bool TryLiteral(ReadOnlySpan<byte> literal)
    {
        if (_input[_pos..].StartsWith(literal))
        {
            _pos += literal.Length;
            return true;
        }
        return false;
    }

    private PyValue ParseValue()
    {
        switch (Peek())
        {
            case (byte)'{':
                return ParseObject();
            case (byte)'[':
                return ParseArray();
            case (byte)'"':
                return new PyStr(new string(ReadString()));
            case (byte)'n' when TryLiteral("null"u8):
                return PyNull.Instance;
            case (byte)'t' when TryLiteral("true"u8):
                return PyBool.True;
            case (byte)'f' when TryLiteral("false"u8):
                return PyBool.False;
            case (byte)'N' when TryLiteral("NaN"u8):
                return new PyFloatValue(double.NaN);
            case (byte)'I' when TryLiteral("Infinity"u8):
                return new PyFloatValue(double.PositiveInfinity);
            case (byte)'-' when TryLiteral("-Infinity"u8):
                return new PyFloatValue(double.NegativeInfinity);
            default:
                var text = ReadNumber(out bool isFloat);
                if (isFloat) return new PyFloatValue(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                if (text.Length <= 3 && text[0] != '-')
                {
                    int small = 0;
                    foreach (byte digit in text) small = small * 10 + (digit - '0');
                    if (small < SmallInts.Length) return SmallInts[small];
                }
                return new PyInt(CanonicalInteger(text));
        }
    }

    private PyDict ParseObject()
    {
        Enter(isObject: true);
        _pos++;
        var dict = new PyDict();
        int keys = 0;
        SkipWhitespace();
        if (Peek() == '}')
        {
            _pos++;
            _depth--;
            return dict;
        }
        while (true)
        {
            SkipWhitespace();
            if (Peek() != '"') throw new PyJsonException("Expecting property name enclosed in double quotes");
            if (++keys > _maxKeys) throw new PyJsonKeyLimitException(_maxKeys);
            string key = KeyString(ReadString());
            SkipWhitespace();
            Expect((byte)':');
            SkipWhitespace();
            dict.Set(key, ParseValue());
            SkipWhitespace();
            if (Peek() == ',') { _pos++; continue; }
            Expect((byte)'}');
            _depth--;
            return dict;
        }
    }

    private PyList ParseArray()
    {
        Enter(isObject: false);
        _pos++;
        var list = new PyList();
        SkipWhitespace();
        if (Peek() == ']')
        {
            _pos++;
            _depth--;
            return list;
        }
        while (true)
        {
            SkipWhitespace();
            if (list.Items.Count == _maxItems) throw new PyJsonItemLimitException(_maxItems);
            list.Items.Add(ParseValue());
            SkipWhitespace();
            if (Peek() == ',') { _pos++; continue; }
            Expect((byte)']');
            _depth--;
            return list;
        }
    }

    private void RewriteValue(IBufferWriter<byte> output)
    {
        switch (Peek())
        {
            case (byte)'{':
                Enter(isObject: true);
                _pos++;
                output.Write("{"u8);
                SkipWhitespace();
                if (Peek() == '}') { _pos++; _depth--; output.Write("}"u8); return; }
                bool first = true;
                while (true)
                {
                    SkipWhitespace();
                    if (Peek() != '"') throw new PyJsonException("Expecting property name enclosed in double quotes");
                    if (!first) output.Write(", "u8);
                    first = false;
                    RewriteString(output);
                    SkipWhitespace();
                    Expect((byte)':');
                    output.Write(": "u8);
                    SkipWhitespace();
                    RewriteValue(output);
                    SkipWhitespace();
                    if (Peek() == ',') { _pos++; continue; }
                    Expect((byte)'}');
                    output.Write("}"u8);
                    _depth--;
                    return;
                }
            case (byte)'[':
                Enter(isObject: false);
                _pos++;
                output.Write("["u8);
                SkipWhitespace();
                if (Peek() == ']') { _pos++; _depth--; output.Write("]"u8); return; }
                bool firstItem = true;
                while (true)
                {
                    SkipWhitespace();
                    if (!firstItem) output.Write(", "u8);
                    firstItem = false;
                    RewriteValue(output);
                    SkipWhitespace();
                    if (Peek() == ',') { _pos++; continue; }
                    Expect((byte)']');
                    output.Write("]"u8);
                    _depth--;
                    return;
                }
            case (byte)'"':
                RewriteString(output);
                return;
            case (byte)'n' when TryLiteral("null"u8):
                output.Write("null"u8);
                return;
            case (byte)'t' when TryLiteral("true"u8):
                output.Write("true"u8);
                return;
            case (byte)'f' when TryLiteral("false"u8):
                output.Write("false"u8);
                return;
            case (byte)'N' when TryLiteral("NaN"u8):
                output.Write("NaN"u8);
                return;
            case (byte)'I' when TryLiteral("Infinity"u8):
                output.Write("Infinity"u8);
                return;
            case (byte)'-' when TryLiteral("-Infinity"u8):
                output.Write("-Infinity"u8);
                return;
            default:
                var text = ReadNumber(out bool isFloat);
                if (isFloat && IsFloatRepr(text))
                {
                    output.Write(text);
                }
                else if (isFloat)
                {
                    PyJsonWriter.WriteDouble(output, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                }
                else if (text.SequenceEqual("-0"u8))
                {
                    output.Write("0"u8);
                }
                else
                {
                    output.Write(text);
                }
                return;
        }
    }

    /// <summary>
    /// A string json.dumps would write back unchanged — printable ASCII without quote or backslash,
    /// what OpenAlgo's publishers send almost always — is copied as it is; anything else is decoded
    /// and encoded again. (Measured: the rewrite was 40 % of the bus thread's CPU before these copies.)
    /// </summary>
    private void RewriteString(IBufferWriter<byte> output)
    {
        var body = _input[(_pos + 1)..];
        int end = body.IndexOfAnyExcept(PlainStringBytes);
        if (end >= 0 && body[end] == '"')
        {
            output.Write(_input.Slice(_pos, end + 2));
            _pos += end + 2;
            return;
        }
        PyJsonWriter.WriteString(output, ReadString());
    }

    /// <summary>
    /// True when <paramref name="text"/> (a JSON float: it has '.' or an exponent) is already what
    /// Python's repr writes for its value, so it can be copied instead of parsed and formatted. That
    /// holds for a fixed-point literal with at most 15 significant digits (a decimal of ≤ 15 digits is
    /// the shortest that round-trips to its double: no two of them share one), no trailing zero in the
    /// fraction but a lone ".0", and a magnitude repr writes in fixed point (≥ 1e-4; ≤ 15 digits are
    /// below 1e16). Anything else takes the exact path.
    /// </summary>
    internal static bool IsFloatRepr(ReadOnlySpan<byte> text)
    {
        if (text.Length > 0 && text[0] == '-') text = text[1..];
        int dot = text.IndexOf((byte)'.');
        if (dot <= 0 || text.IndexOfAny((byte)'e', (byte)'E') >= 0) return false;
        var whole = text[..dot];
        var fraction = text[(dot + 1)..];
        if (fraction.Length == 0 || (fraction.Length > 1 && fraction[^1] == '0')) return false;
        if (whole.Length == 1 && whole[0] == '0')
        {
            int firstDigit = fraction.IndexOfAnyExcept((byte)'0');
            if (firstDigit < 0) return fraction.Length == 1; // 0.0
            return firstDigit < 4 && fraction.Length - firstDigit <= 15; // repr writes below 1e-4 with an exponent
        }
        int significant = whole.Length + (fraction.Length == 1 && fraction[0] == '0' ? 0 : fraction.Length);
        return significant <= 15;
    }

    private void Enter(bool isObject)
    {
        if (++_depth > MaxDepth) throw new PyJsonDepthException(isObject);
    }

    // NUMBER_RE = r'(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?'
    private ReadOnlySpan<byte> ReadNumber(out bool isFloatOut)
    {
        int start = _pos;
        if (Peek() == '-') _pos++;
        if (Peek() == '0')
        {
            _pos++;
        }
        else if (IsDigit(Peek()))
        {
            while (IsDigit(Peek())) _pos++;
        }
        else
        {
            throw new PyJsonException("Expecting value");
        }
        bool isFloat = false;
        if (Peek() == '.' && _pos + 1 < _input.Length && IsDigit(_input[_pos + 1]))
        {
            _pos++;
            while (IsDigit(Peek())) _pos++;
            isFloat = true;
        }
        if (Peek() == 'e' || Peek() == 'E')
        {
            int save = _pos;
            _pos++;
            if (Peek() == '+' || Peek() == '-') _pos++;
            if (IsDigit(Peek()))
            {
                while (IsDigit(Peek())) _pos++;
                isFloat = true;
            }
            else
            {
                _pos = save; // the regex simply stops before the 'e'; "Extra data" follows
            }
        }
        isFloatOut = isFloat;
        return _input[start.._pos];
    }

    private static bool IsDigit(byte b) => b >= '0' && b <= '9';

    private static string KeyString(ReadOnlySpan<char> key)
    {
        foreach (string common in CommonKeys)
        {
            if (key.SequenceEqual(common)) return common;
        }
        return new string(key);
    }

    private static string CanonicalInteger(ReadOnlySpan<byte> text)
    {
        if (text.SequenceEqual("-0"u8)) return "0";
        return Encoding.ASCII.GetString(text);
    }

    /// <summary>Reads a string token and returns its unescaped chars (valid until the next call).</summary>
    private ReadOnlySpan<char> ReadString()
    {
        _pos++; // opening quote
        int length = 0;
        while (true)
        {
            int runStart = _pos;
            while (_pos < _input.Length)
            {
                byte b = _input[_pos];
                if (b == '"' || b == '\\') break;
                if (b < 0x20) throw new PyJsonException("Invalid control character");
                _pos++;
            }
            if (_pos > runStart)
            {
                var run = _input[runStart.._pos];
                EnsureScratch(length + run.Length);
                length += Encoding.UTF8.GetChars(run, _scratch.AsSpan(length));
            }
            if (_pos >= _input.Length) throw new PyJsonException("Unterminated string");
            if (_input[_pos] == '"')
            {
                _pos++;
                return _scratch.AsSpan(0, length);
            }
            _pos++; // backslash
            if (_pos >= _input.Length) throw new PyJsonException("Unterminated string");
            byte esc = _input[_pos++];
            char decoded = esc switch
            {
                (byte)'"' => '"',
                (byte)'\\' => '\\',
                (byte)'/' => '/',
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                (byte)'u' => ReadHex4(),
                _ => throw new PyJsonException("Invalid \\escape"),
            };
            EnsureScratch(length + 1);
            _scratch[length++] = decoded;
        }
    }

    private char ReadHex4()
    {
        if (_pos + 4 > _input.Length) throw new PyJsonException("Invalid \\uXXXX escape");
        int value = 0;
        for (int i = 0; i < 4; i++)
        {
            byte b = _input[_pos++];
            int digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => throw new PyJsonException("Invalid \\uXXXX escape"),
            };
            value = (value << 4) | digit;
        }
        return (char)value;
    }

    private void EnsureScratch(int needed)
    {
        if (needed <= _scratch.Length) return;
        var bigger = ArrayPool<char>.Shared.Rent(Math.Max(needed, _scratch.Length * 2));
        _scratch.AsSpan().CopyTo(bigger);
        ArrayPool<char>.Shared.Return(_scratch);
        _scratch = bigger;
    }
}
