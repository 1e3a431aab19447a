namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// The output of <c>nginx -T</c>: every file nginx read, each after a line
/// <c># configuration file PATH:</c>, the first being the main file. Lines before the first file
/// (<c>nginx: the configuration file … syntax is ok</c>, sudo's warnings) are skipped.
/// Includes are resolved against the dumped files only.
/// </summary>
internal sealed class NginxDump : INginxFiles
{
    private const string Separator = "# configuration file ";
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    private NginxDump(string dumpFile) => DumpFile = dumpFile;

    public string DumpFile { get; }

    public string Description => $"nginx -T output in {DumpFile} ({_order.Count} files)";

    public string? MainFile => _order.Count > 0 ? _order[0] : null;

    public IReadOnlyList<string> Files => _order;

    public static NginxDump Parse(string dumpFile, string text)
    {
        var dump = new NginxDump(dumpFile);
        string? current = null;
        var content = new System.Text.StringBuilder();
        int lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            string trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith(Separator, StringComparison.Ordinal) && trimmed.EndsWith(':'))
            {
                dump.Add(current, content);
                current = trimmed[Separator.Length..^1];
                if (!current.StartsWith('/'))
                {
                    throw new MigrationException($"{dumpFile}:{lineNumber}: '{trimmed}' does not name an absolute path. Fix: pass the unedited output of 'sudo nginx -T'.");
                }
                content.Clear();
                continue;
            }
            // Before the first file: nginx's status lines and whatever else reached stderr with 2>&1
            // (sudo's "unable to resolve host", nginx's [warn] lines). A file that is not a dump at
            // all has no section and is refused below.
            if (current is null) continue;
            content.Append(line).Append('\n');
        }
        dump.Add(current, content);
        if (dump._order.Count == 0)
        {
            throw new MigrationException($"{dumpFile}: no '# configuration file PATH:' section. Fix: pass the output of 'sudo nginx -T' (not a single configuration file; nginx prints the sections only when 'nginx -t' passes).");
        }
        return dump;
    }

    public bool Exists(string path) => _files.ContainsKey(path);

    public string Read(string path) => _files.TryGetValue(path, out var text)
        ? text
        : throw new MigrationException($"{path}: not in {DumpFile}. Fix: pass the complete output of 'sudo nginx -T'.");

    public IReadOnlyList<string> Expand(string pattern) => Glob.HasMagic(pattern)
        ? _order.Where(f => Glob.MatchPath(pattern, f)).Order(StringComparer.Ordinal).ToList()
        : _files.ContainsKey(pattern) ? [pattern] : [];

    private void Add(string? file, System.Text.StringBuilder content)
    {
        if (file is null) return;
        // nginx -T writes one line feed after each file's own text.
        string text = content.ToString();
        if (text.EndsWith("\n\n", StringComparison.Ordinal)) text = text[..^1];
        if (_files.TryAdd(file, text)) _order.Add(file);
    }
}
