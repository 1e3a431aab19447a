namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// One nginx directive as written: its name, its arguments (quotes removed, escapes applied,
/// variables left as text), its block if it has one, and where it was read — the file as nginx
/// names it (<c>/etc/nginx/sites-enabled/openalgo.conf</c>, also under <c>--root</c>) and the line.
/// <c>include</c> is already replaced by the directives of the files it names.
/// </summary>
internal sealed record NginxDirective(string Name, IReadOnlyList<string> Args, IReadOnlyList<NginxDirective>? Block, string File, int Line)
{
    public string Where => $"{File}:{Line}";

    /// <summary>The first argument, or empty.</summary>
    public string Arg => Args.Count > 0 ? Args[0] : "";

    /// <summary>How nginx would print it (for plans and messages), without its block.</summary>
    public string Text => Args.Count == 0 ? Name : Name + " " + string.Join(' ', Args.Select(Quote));

    public IEnumerable<NginxDirective> Children(string name) =>
        (Block ?? []).Where(d => d.Name.Equals(name, StringComparison.Ordinal));

    public NginxDirective? Child(string name) => Children(name).LastOrDefault();

    private static string Quote(string arg) =>
        arg.Length == 0 || arg.Any(c => char.IsWhiteSpace(c) || c is ';' or '{' or '}' or '#' or '"' or '\'')
            ? "\"" + arg.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""
            : arg;
}
