using System.Globalization;
using System.Text;

namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>CPython's <c>repr(str)</c>: quote choice, escapes, and which characters count as printable.</summary>
internal static class PyRepr
{
    public static void AppendString(StringBuilder builder, string value)
    {
        char quote = value.Contains('\'') && !value.Contains('"') ? '"' : '\'';
        builder.Append(quote);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == quote || c == '\\')
            {
                builder.Append('\\').Append(c);
            }
            else if (c == '\t') builder.Append("\\t");
            else if (c == '\n') builder.Append("\\n");
            else if (c == '\r') builder.Append("\\r");
            else if (c < ' ' || c == 0x7f)
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else if (c < 0x7f)
            {
                builder.Append(c);
            }
            else
            {
                int codePoint = c;
                int width = 1;
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    codePoint = char.ConvertToUtf32(c, value[i + 1]);
                    width = 2;
                }
                if (IsPrintable(codePoint))
                {
                    builder.Append(value, i, width);
                }
                else if (codePoint <= 0xff)
                {
                    builder.Append("\\x").Append(codePoint.ToString("x2", CultureInfo.InvariantCulture));
                }
                else if (codePoint <= 0xffff)
                {
                    builder.Append("\\u").Append(codePoint.ToString("x4", CultureInfo.InvariantCulture));
                }
                else
                {
                    builder.Append("\\U").Append(codePoint.ToString("x8", CultureInfo.InvariantCulture));
                }
                i += width - 1;
            }
        }
        builder.Append(quote);
    }

    // CPython: printable unless the category is Other (Cc, Cf, Cs, Co, Cn) or Separator other than space.
    private static bool IsPrintable(int codePoint)
    {
        if (codePoint >= 0xD800 && codePoint <= 0xDFFF) return false;
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        return category switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => false,
            UnicodeCategory.SpaceSeparator => codePoint == ' ',
            _ => true,
        };
    }
}
