using System.Globalization;

namespace OpenAlgo.Appliance.Bench;

/// <summary>Minimal "--name value" / "--flag" parser. Every option must be declared before use.</summary>
public sealed class Args
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public static Args Parse(IReadOnlyList<string> argv, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flagOptions)
    {
        var a = new Args();
        for (int i = 0; i < argv.Count; i++)
        {
            string s = argv[i];
            if (!s.StartsWith("--", StringComparison.Ordinal))
            {
                a.Positional.Add(s);
                continue;
            }
            string name = s[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flagOptions.Contains(name))
            {
                if (inline is not null && !bool.Parse(inline))
                {
                    continue;
                }
                a._flags.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                string value = inline ?? (i + 1 < argv.Count ? argv[++i] : throw new UsageException($"--{name} needs a value"));
                if (!a._values.TryGetValue(name, out var list))
                {
                    a._values[name] = list = [];
                }
                list.Add(value);
            }
            else
            {
                throw new UsageException($"unknown option --{name}");
            }
        }
        return a;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public string? String(string name) => _values.TryGetValue(name, out var l) ? l[^1] : null;

    public string String(string name, string fallback) => String(name) ?? fallback;

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var l) ? l : [];

    public int Int(string name, int fallback)
    {
        string? s = String(name);
        if (s is null)
        {
            return fallback;
        }
        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new UsageException($"--{name}: '{s}' is not an integer");
    }

    public long Long(string name, long fallback)
    {
        string? s = String(name);
        if (s is null)
        {
            return fallback;
        }
        return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw new UsageException($"--{name}: '{s}' is not an integer");
    }

    public int? IntOrNull(string name) => String(name) is null ? null : Int(name, 0);

    public double Double(string name, double fallback)
    {
        string? s = String(name);
        if (s is null)
        {
            return fallback;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v
            : throw new UsageException($"--{name}: '{s}' is not a number");
    }
}

public sealed class UsageException(string message) : Exception(message);
