using System.Globalization;

namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>
/// Formats doubles exactly as CPython's <c>repr(float)</c> (and therefore <c>json.dumps</c>) does:
/// shortest round-trip digits, fixed notation while the decimal exponent is in (-4, 16], otherwise
/// <c>d.ddde±XX</c>. OpenAlgo clients compare these bytes, so "1418.4", "1400.0", "1e-05" and
/// "1e+16" must come out exactly so.
/// </summary>
internal static class PyFloat
{
    /// <summary>Largest output: sign + 17 digits + "0." + 16 zeros or "e-308" fits comfortably in 64 chars.</summary>
    public const int MaxChars = 64;

    /// <summary>Writes the JSON form (NaN/Infinity/-Infinity as json.dumps emits them).</summary>
    public static int FormatJson(double value, Span<char> destination)
    {
        if (double.IsNaN(value)) return Copy("NaN", destination);
        if (double.IsPositiveInfinity(value)) return Copy("Infinity", destination);
        if (double.IsNegativeInfinity(value)) return Copy("-Infinity", destination);
        return FormatFinite(value, destination);
    }

    /// <summary>Writes the <c>str()</c>/<c>repr()</c> form used inside Python error messages (nan, inf).</summary>
    public static int FormatRepr(double value, Span<char> destination)
    {
        if (double.IsNaN(value)) return Copy("nan", destination);
        if (double.IsPositiveInfinity(value)) return Copy("inf", destination);
        if (double.IsNegativeInfinity(value)) return Copy("-inf", destination);
        return FormatFinite(value, destination);
    }

    public static string ToJsonString(double value)
    {
        Span<char> buffer = stackalloc char[MaxChars];
        return new string(buffer[..FormatJson(value, buffer)]);
    }

    public static string ToReprString(double value)
    {
        Span<char> buffer = stackalloc char[MaxChars];
        return new string(buffer[..FormatRepr(value, buffer)]);
    }

    private static int FormatFinite(double value, Span<char> destination)
    {
        if (value == 0)
        {
            return Copy(double.IsNegative(value) ? "-0.0" : "0.0", destination);
        }

        // .NET's "R" is the shortest round-trip representation (since .NET Core 3.0), but its
        // notation switches differ from CPython's, so take only digits and exponent from it.
        Span<char> raw = stackalloc char[40];
        if (!value.TryFormat(raw, out int rawLength, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("double did not fit its format buffer");
        }
        raw = raw[..rawLength];

        bool negative = raw[0] == '-';
        if (negative) raw = raw[1..];

        int exponentPart = 0;
        int ePos = raw.IndexOfAny('E', 'e');
        ReadOnlySpan<char> mantissa = raw;
        if (ePos >= 0)
        {
            exponentPart = int.Parse(raw[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = raw[..ePos];
        }

        Span<char> digits = stackalloc char[40];
        int digitCount = 0;
        int intDigits = 0;
        bool seenDot = false;
        foreach (char c in mantissa)
        {
            if (c == '.') { seenDot = true; continue; }
            digits[digitCount++] = c;
            if (!seenDot) intDigits++;
        }

        // value = D[0].D[1..] × 10^sciExponent
        int sciExponent = exponentPart + intDigits - 1;
        int start = 0;
        while (start < digitCount - 1 && digits[start] == '0') { start++; sciExponent--; }
        int end = digitCount;
        while (end > start + 1 && digits[end - 1] == '0') end--;
        ReadOnlySpan<char> d = digits[start..end];

        int pos = 0;
        if (negative) destination[pos++] = '-';
        int decpt = sciExponent + 1; // CPython's "decpt": value = 0.D × 10^decpt
        if (decpt <= -4 || decpt > 16)
        {
            destination[pos++] = d[0];
            if (d.Length > 1)
            {
                destination[pos++] = '.';
                d[1..].CopyTo(destination[pos..]);
                pos += d.Length - 1;
            }
            destination[pos++] = 'e';
            destination[pos++] = sciExponent < 0 ? '-' : '+';
            int absExp = Math.Abs(sciExponent);
            if (absExp < 10) destination[pos++] = '0';
            absExp.TryFormat(destination[pos..], out int expChars, default, CultureInfo.InvariantCulture);
            pos += expChars;
        }
        else if (decpt <= 0)
        {
            destination[pos++] = '0';
            destination[pos++] = '.';
            for (int i = 0; i < -decpt; i++) destination[pos++] = '0';
            d.CopyTo(destination[pos..]);
            pos += d.Length;
        }
        else if (decpt >= d.Length)
        {
            d.CopyTo(destination[pos..]);
            pos += d.Length;
            for (int i = d.Length; i < decpt; i++) destination[pos++] = '0';
            destination[pos++] = '.';
            destination[pos++] = '0';
        }
        else
        {
            d[..decpt].CopyTo(destination[pos..]);
            pos += decpt;
            destination[pos++] = '.';
            d[decpt..].CopyTo(destination[pos..]);
            pos += d.Length - decpt;
        }
        return pos;
    }

    private static int Copy(string text, Span<char> destination)
    {
        text.AsSpan().CopyTo(destination);
        return text.Length;
    }
}
