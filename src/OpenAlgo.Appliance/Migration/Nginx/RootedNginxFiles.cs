namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>nginx's files on the system (or under <c>--root</c>): <c>/etc/nginx/nginx.conf</c> and what it includes.</summary>
internal sealed class RootedNginxFiles(SystemRoot root, string mainFile = RootedNginxFiles.DefaultMainFile) : INginxFiles
{
    public const string DefaultMainFile = "/etc/nginx/nginx.conf";

    public string Description => root.FileExists(mainFile)
        ? mainFile
        : $"{mainFile} is missing: read /etc/nginx/sites-enabled/* and /etc/nginx/conf.d/*.conf as nginx's http context";

    public string? MainFile => root.FileExists(mainFile) ? mainFile : null;

    public bool Exists(string path) => root.FileExists(path);

    public string Read(string path)
    {
        try
        {
            return root.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MigrationException($"{path}: cannot read it ({ex.Message}). Fix: run migrate as root (sudo).");
        }
    }

    public IReadOnlyList<string> Expand(string pattern) =>
        Glob.Expand(pattern, root.List, root.EntryExists).Where(root.FileExists).ToList();
}
