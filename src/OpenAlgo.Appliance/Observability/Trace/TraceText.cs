using System.Text;
using OpenAlgo.Appliance.Auth;

namespace OpenAlgo.Appliance.Observability.Trace;

/// <summary>
/// A message as the trace writes it: secrets redacted, control characters escaped (one message is
/// one line, and a client cannot forge lines), cut to <see cref="MaxChars"/>.
/// <para>
/// Redaction does not trust the message to be well formed. The value of any JSON member whose name
/// says it is a secret (<c>api_key</c>, <c>apikey</c>, <c>apiKey</c>, <c>key</c>, <c>password</c>,
/// <c>secret</c>, <c>…token</c> of access and auth) is replaced — a string by the key's fingerprint as the
/// service log writes it (<c>key#1a2b3c4d</c>), so lines can be matched up; an unterminated one up to
/// the end — and outside such members any run of 32 or more letters, digits, '-' or '_' is replaced
/// too: OpenAlgo's keys are 64 hex digits, and a key pasted where no key belongs (a wrong field, a
/// message that is not JSON) is still one such run. Nothing in OpenAlgo's protocol is that long
/// otherwise (symbols are at most about 25 characters).
/// </para>
/// </summary>
internal static class TraceText
{
    /// <summary>A longer message is cut here (after redaction); the line says how long it was.</summary>
    public const int MaxChars = 4096;

    private const int LongRun = 32;

    /// <summary>The message's UTF-8 bytes as they may be written.</summary>
    public static string Of(ReadOnlySpan<byte> utf8)
    {
        string text = Encoding.UTF8.GetString(utf8);
        string redacted = Redact(text);
        return Escape(redacted, utf8.Length);
    }

    /// <summary>
    /// A complete, unmasked server frame as the trace writes it: a text message's content, a close
    /// frame's code and reason; null for pings and pongs (keepalive, not messages).
    /// </summary>
    public static string? Frame(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 2) return null;
        int opcode = frame[0] & 0x0F;
        int length = frame[1] & 0x7F;
        int offset = length switch { 126 => 4, 127 => 10, _ => 2 };
        if (frame.Length < offset) return null;
        var payload = frame[offset..];
        return opcode switch
        {
            1 => Of(payload),
            2 => "(binary) " + Of(payload),
            8 when payload.Length >= 2 => $"close {System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(payload)}" + (payload.Length > 2 ? " " + Of(payload[2..]) : ""),
            8 => "close",
            _ => null,
        };
    }

    public static string Redact(string text)
    {
        var output = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] != '"')
            {
                int end = i;
                while (end < text.Length && text[end] != '"') end++;
                AppendMasked(output, text.AsSpan(i, end - i));
                i = end;
                continue;
            }
            int stringEnd = SkipString(text, i);
            int colon = SkipSpace(text, stringEnd);
            if (colon < text.Length && text[colon] == ':' && IsSecretName(Unquote(text, i, stringEnd)))
            {
                output.Append(text, i, colon + 1 - i);
                int value = SkipSpace(text, colon + 1);
                output.Append(text, colon + 1, value - colon - 1);
                int valueEnd = SkipValue(text, value);
                if (valueEnd > value)
                {
                    output.Append(text[value] == '"' ? $"\"[redacted {ApiKeyFingerprint.Of(Unquote(text, value, valueEnd))}]\"" : "\"[redacted]\"");
                }
                i = valueEnd;
                continue;
            }
            AppendMasked(output, text.AsSpan(i, stringEnd - i));
            i = stringEnd;
        }
        return output.ToString();
    }

    /// <summary>Control characters as \n, \t, \uXXXX; cut to <see cref="MaxChars"/> with the whole length said.</summary>
    public static string Escape(string text, int byteLength)
    {
        var output = new StringBuilder(Math.Min(text.Length, MaxChars) + 32);
        foreach (char c in text)
        {
            if (output.Length >= MaxChars)
            {
                output.Append($"… ({byteLength} bytes in all)");
                break;
            }
            switch (c)
            {
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029') output.Append($"\\u{(int)c:x4}");
                    else output.Append(c);
                    break;
            }
        }
        return output.ToString();
    }

    /// <summary>Member names whose values are secrets; compared without case, '_' or '-'.</summary>
    internal static bool IsSecretName(string name)
    {
        Span<char> folded = stackalloc char[Math.Min(name.Length, 64)];
        int length = 0;
        foreach (char c in name)
        {
            if (c is '_' or '-' or ' ') continue;
            if (length == folded.Length) return false;
            folded[length++] = char.ToLowerInvariant(c);
        }
        var n = folded[..length];
        return n.SequenceEqual("key") || n.Contains("apikey", StringComparison.Ordinal) || n.Contains("password", StringComparison.Ordinal)
            || n.Contains("secret", StringComparison.Ordinal) || n.Contains("pepper", StringComparison.Ordinal)
            || n.SequenceEqual("accesstoken") || n.SequenceEqual("authtoken") || n.SequenceEqual("authorization");
    }

    private static void AppendMasked(StringBuilder output, ReadOnlySpan<char> text)
    {
        int i = 0;
        while (i < text.Length)
        {
            if (!IsRunChar(text[i]))
            {
                output.Append(text[i++]);
                continue;
            }
            int end = i;
            while (end < text.Length && IsRunChar(text[end])) end++;
            if (end - i >= LongRun) output.Append("[redacted]");
            else output.Append(text[i..end]);
            i = end;
        }
    }

    private static bool IsRunChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    /// <summary>The index after the string that starts at <paramref name="start"/> (a quote); the end of the text when unterminated.</summary>
    private static int SkipString(string text, int start)
    {
        for (int i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\') i++;
            else if (text[i] == '"') return i + 1;
        }
        return text.Length;
    }

    private static int SkipSpace(string text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t' or '\r' or '\n') i++;
        return i;
    }

    /// <summary>The end of the JSON value at <paramref name="start"/>: a string, a bracketed value (strings inside respected), or a bare token.</summary>
    private static int SkipValue(string text, int start)
    {
        if (start >= text.Length) return start;
        if (text[start] == '"') return SkipString(text, start);
        if (text[start] is '{' or '[')
        {
            int depth = 0;
            for (int i = start; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '"') { i = SkipString(text, i) - 1; continue; }
                if (c is '{' or '[') depth++;
                else if (c is '}' or ']' && --depth == 0) return i + 1;
            }
            return text.Length;
        }
        int end = start;
        while (end < text.Length && text[end] is not (',' or '}' or ']' or ' ' or '\t' or '\r' or '\n')) end++;
        return end;
    }

    /// <summary>A JSON string's content (escapes decoded where they parse; the raw text otherwise).</summary>
    private static string Unquote(string text, int start, int end)
    {
        int contentEnd = end > start + 1 && end <= text.Length && text[end - 1] == '"' && end - 1 > start ? end - 1 : end;
        string raw = text[(start + 1)..contentEnd];
        if (!raw.Contains('\\', StringComparison.Ordinal)) return raw;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize("\"" + raw + "\"", TraceJsonContext.Default.String) ?? raw;
        }
        catch (System.Text.Json.JsonException)
        {
            return raw;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TraceJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
