using System.Text;
using System.Text.RegularExpressions;

namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// glob(3) patterns as nginx's <c>include</c> uses them: <c>*</c>, <c>?</c> and <c>[…]</c> within one
/// path component, a leading dot matched only by a leading dot, matches sorted bytewise.
/// </summary>
internal static class Glob
{
    public static bool HasMagic(string pattern) => pattern.IndexOfAny(['*', '?', '[']) >= 0;

    /// <summary>Whether one path component matches one pattern component.</summary>
    public static bool MatchComponent(string pattern, string name)
    {
        if (name.StartsWith('.') && !pattern.StartsWith('.')) return false;
        return ToRegex(pattern).IsMatch(name);
    }

    /// <summary>Whether a whole absolute path matches an absolute pattern, component by component.</summary>
    public static bool MatchPath(string pattern, string path)
    {
        var patternParts = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var pathParts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (patternParts.Length != pathParts.Length) return false;
        for (int i = 0; i < patternParts.Length; i++)
        {
            if (!MatchComponent(patternParts[i], pathParts[i])) return false;
        }
        return true;
    }

    /// <summary>Expands an absolute pattern against a tree listed by <paramref name="list"/> (system paths of a directory's entries).</summary>
    public static List<string> Expand(string pattern, Func<string, IEnumerable<string>> list, Func<string, bool> exists)
    {
        var current = new List<string> { "" };
        foreach (var part in pattern.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = new List<string>();
            foreach (var prefix in current)
            {
                if (!HasMagic(part))
                {
                    string candidate = prefix + "/" + part;
                    if (exists(candidate)) next.Add(candidate);
                    continue;
                }
                foreach (var entry in list(prefix.Length == 0 ? "/" : prefix))
                {
                    if (MatchComponent(part, entry[(entry.LastIndexOf('/') + 1)..])) next.Add(entry);
                }
            }
            current = next;
        }
        return current.Where(p => p.Length > 0).Order(StringComparer.Ordinal).ToList();
    }

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char ch = pattern[i];
            switch (ch)
            {
                case '*': regex.Append(".*"); break;
                case '?': regex.Append('.'); break;
                case '[':
                    int close = pattern.IndexOf(']', i + 2);
                    if (close < 0) { regex.Append(@"\["); break; }
                    string set = pattern[(i + 1)..close];
                    if (set.StartsWith('!')) set = "^" + set[1..];
                    regex.Append('[').Append(set.Replace(@"\", @"\\", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    regex.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                default: regex.Append(Regex.Escape(ch.ToString())); break;
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }
}
