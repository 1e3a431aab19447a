using System.Text;
using System.Text.RegularExpressions;

namespace OpenAlgo.Appliance.Migration.Discovery;

/// <summary>
/// OpenAlgo's <c>.env</c> as python-dotenv reads it (<c>KEY = 'value'</c>, <c>KEY="value"</c>,
/// <c>export KEY=value # comment</c>; the last assignment wins), kept as its exact bytes so an edit
/// changes one value and nothing else: not the quoting, spacing, comments or line endings.
/// </summary>
internal sealed partial class DotEnvFile
{
    private readonly string _text;
    private readonly List<Assignment> _assignments = [];

    private DotEnvFile(string path, string text)
    {
        Path = path;
        _text = text;
        int start = 0, number = 1;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            int next = end < 0 ? text.Length : end + 1;
            string line = text[start..(end < 0 ? text.Length : end)].TrimEnd('\r');
            var match = AssignmentPattern().Match(line);
            if (match.Success)
            {
                var value = match.Groups["value"];
                int length = TokenLength(value.Value);
                _assignments.Add(new Assignment(match.Groups["key"].Value, Unquote(value.Value), number, start + value.Index, length, value.Value[..length]));
            }
            start = next;
            number++;
        }
    }

    /// <summary>The file's system path.</summary>
    public string Path { get; }

    public string Text => _text;

    public static DotEnvFile Parse(string path, string text) => new(path, text);

    /// <summary>The value python-dotenv would give the key (the last assignment), or null.</summary>
    public string? Get(string key) => _assignments.LastOrDefault(a => a.Key == key)?.Value;

    /// <summary>The line of the last assignment of the key, or null.</summary>
    public int? LineOf(string key) => _assignments.LastOrDefault(a => a.Key == key)?.Line;

    /// <summary>The last assignment's value as written (<c>'8765'</c>, quotes kept, comment not), or null.</summary>
    public string? RawValue(string key) => _assignments.LastOrDefault(a => a.Key == key)?.Raw;

    public int GetInt(string key, int fallback) =>
        int.TryParse(Get(key), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : fallback;

    /// <summary>
    /// The file with every assignment of <paramref name="key"/> set to <paramref name="value"/> in the
    /// quoting it already had (no quotes, '…' or "…"); without one, <c>KEY='value'</c> appended as
    /// OpenAlgo's sample writes it. Every other byte stays as it was.
    /// </summary>
    public string With(string key, string value)
    {
        var mine = _assignments.Where(a => a.Key == key).ToList();
        if (mine.Count == 0)
        {
            string separator = _text.Length == 0 || _text.EndsWith('\n') ? "" : (_text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n");
            string newline = _text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
            return _text + separator + $"{key}='{value}'" + newline;
        }
        var result = new StringBuilder(_text.Length + 8);
        int position = 0;
        foreach (var assignment in mine)
        {
            result.Append(_text, position, assignment.Offset - position);
            string raw = assignment.Raw;
            char quote = raw.Length > 0 && raw[0] is '\'' or '"' ? raw[0] : '\0';
            result.Append(quote == '\0' ? value : quote + value + quote);
            position = assignment.Offset + assignment.Length;
        }
        result.Append(_text, position, _text.Length - position);
        return result.ToString();
    }

    /// <summary>The value itself: a quoted string to its closing quote, else up to a <c> #</c> comment.</summary>
    private static int TokenLength(string raw)
    {
        if (raw.Length > 0 && raw[0] is '\'' or '"')
        {
            int close = raw.IndexOf(raw[0], 1);
            return close > 0 ? close + 1 : raw.Length;
        }
        int comment = raw.IndexOf(" #", StringComparison.Ordinal);
        return (comment >= 0 ? raw[..comment] : raw).TrimEnd().Length;
    }

    private static string Unquote(string raw)
    {
        raw = raw.Trim();
        if (raw.Length > 0 && raw[0] is '\'' or '"')
        {
            int close = raw.IndexOf(raw[0], 1);
            return close > 0 ? raw[1..close] : raw[1..];
        }
        int comment = raw.IndexOf(" #", StringComparison.Ordinal);
        return (comment >= 0 ? raw[..comment] : raw).Trim();
    }

    private sealed record Assignment(string Key, string Value, int Line, int Offset, int Length, string Raw);

    // The value group stops before trailing white space; a quoted value keeps what follows its quote
    // (a comment) inside the group so an edit can keep it.
    [GeneratedRegex(@"^\s*(?:export\s+)?(?<key>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(?<value>.*?)\s*$")]
    private static partial Regex AssignmentPattern();
}
