using System.Text;
using System.Text.RegularExpressions;

namespace OpenAlgo.Appliance.Migration.Discovery;

/// <summary>
/// A systemd unit file as far as migrate needs it: the <c>[Service]</c> settings (continuation
/// lines joined, later assignments appended as systemd does for list settings), and whether the
/// unit is enabled (a link in some <c>*.wants/</c> directory under <c>/etc/systemd/system</c>).
/// </summary>
internal sealed partial class SystemdUnit
{
    private readonly Dictionary<string, List<string>> _service = new(StringComparer.Ordinal);

    private SystemdUnit(string name, string path)
    {
        Name = name;
        Path = path;
    }

    /// <summary><c>openalgo.service</c>.</summary>
    public string Name { get; }

    /// <summary>The unit file (system path).</summary>
    public string Path { get; }

    public bool Enabled { get; private set; }

    public IReadOnlyList<string> Values(string key) => _service.TryGetValue(key, out var values) ? values : [];

    public string? Value(string key) => Values(key).LastOrDefault(v => v.Length > 0);

    public string? WorkingDirectory => Value("WorkingDirectory")?.TrimStart('-');

    public string? User => Value("User");

    /// <summary>The files of every <c>EnvironmentFile=</c> (a leading <c>-</c> marks an optional one).</summary>
    public IEnumerable<string> EnvironmentFiles => Values("EnvironmentFile").Where(v => v.Length > 0).Select(v => v.TrimStart('-'));

    public string ExecStart => string.Join(' ', Values("ExecStart"));

    /// <summary>What gunicorn binds: <c>unix:/path.sock</c> or <c>host:port</c> from <c>--bind</c>/<c>-b</c>, or null.</summary>
    public string? GunicornBind
    {
        get
        {
            string exec = ExecStart;
            if (!exec.Contains("gunicorn", StringComparison.Ordinal)) return null;
            var match = BindPattern().Match(exec);
            return match.Success ? match.Groups["bind"].Value.Trim('\'', '"') : null;
        }
    }

    /// <summary>Units under the system's unit directories, <c>/etc/systemd/system</c> first (it overrides the others).</summary>
    public static List<SystemdUnit> LoadAll(SystemRoot root)
    {
        var units = new Dictionary<string, SystemdUnit>(StringComparer.Ordinal);
        foreach (var directory in new[] { "/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system" })
        {
            foreach (var path in root.List(directory))
            {
                string name = System.IO.Path.GetFileName(path);
                if (!name.EndsWith(".service", StringComparison.Ordinal) || units.ContainsKey(name) || !root.FileExists(path)) continue;
                if (root.LinkTarget(path) is "/dev/null") continue; // masked
                var unit = Parse(name, path, root.ReadAllText(path));
                foreach (var dropIn in root.List(directory + "/" + name + ".d").Where(p => p.EndsWith(".conf", StringComparison.Ordinal)))
                {
                    unit.Read(root.ReadAllText(dropIn));
                }
                unit.Enabled = IsEnabled(root, name);
                units[name] = unit;
            }
        }
        return units.Values.OrderBy(u => u.Name, StringComparer.Ordinal).ToList();
    }

    public static bool IsEnabled(SystemRoot root, string name) =>
        root.List("/etc/systemd/system").Where(d => d.EndsWith(".wants", StringComparison.Ordinal) || d.EndsWith(".requires", StringComparison.Ordinal))
            .Any(d => root.EntryExists(d + "/" + name));

    public static SystemdUnit Parse(string name, string path, string text)
    {
        var unit = new SystemdUnit(name, path);
        unit.Read(text);
        return unit;
    }

    private void Read(string text)
    {
        string section = "";
        var logical = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (logical.Length > 0)
            {
                logical.Append(' ');
            }
            else if (line.TrimStart().StartsWith('#') || line.TrimStart().StartsWith(';'))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                logical.Append(line[..^1]);
                continue;
            }
            logical.Append(line);
            string full = logical.ToString().Trim();
            logical.Clear();
            if (full.Length == 0) continue;
            if (full.StartsWith('[') && full.EndsWith(']'))
            {
                section = full[1..^1];
                continue;
            }
            if (section != "Service") continue;
            int equals = full.IndexOf('=');
            if (equals < 0) continue;
            string key = full[..equals].Trim();
            string value = full[(equals + 1)..].Trim();
            if (!_service.TryGetValue(key, out var values)) _service[key] = values = [];
            // An empty assignment resets a list setting (systemd.unit(5)).
            if (value.Length == 0) values.Clear();
            values.Add(value);
        }
    }

    [GeneratedRegex(@"(?:--bind(?:=|\s+)|\s-b\s*)(?<bind>'[^']*'|""[^""]*""|[^\s'""]+)")]
    private static partial Regex BindPattern();
}
