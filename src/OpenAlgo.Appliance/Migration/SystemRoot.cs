namespace OpenAlgo.Appliance.Migration;

/// <summary>
/// <c>--root DIR</c>: the directory that stands for <c>/</c>. Every path <c>migrate</c> reads or
/// writes is an absolute system path (<c>/etc/nginx/nginx.conf</c>, as nginx, systemd and the plan
/// name it) mapped under the root here. Symbolic links are followed inside the root: an absolute
/// target (<c>ln -s /etc/nginx/sites-available/x</c>) starts again at the root, never at the host's <c>/</c>.
/// </summary>
internal sealed class SystemRoot
{
    private const int MaxLinks = 40;

    public SystemRoot(string directory)
    {
        Directory = Path.GetFullPath(directory);
        IsLive = Directory == "/";
    }

    /// <summary>The real directory standing for <c>/</c>.</summary>
    public string Directory { get; }

    /// <summary>True when the root is the running system's own <c>/</c>: commands are run, not printed.</summary>
    public bool IsLive { get; }

    /// <summary>Where an absolute system path is on disk, its last component not resolved (for writing, lstat, readlink).</summary>
    public string Map(string systemPath)
    {
        if (!systemPath.StartsWith('/')) throw new ArgumentException($"not an absolute path: {systemPath}", nameof(systemPath));
        return IsLive ? systemPath : Path.Join(Directory, systemPath);
    }

    /// <summary>The system path with every symbolic link resolved inside the root (a missing part is kept as it is).</summary>
    public string Resolve(string systemPath)
    {
        if (IsLive) return systemPath;
        var pending = new Stack<string>(Split(systemPath).Reverse());
        var done = new List<string>();
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                if (done.Count > 0) done.RemoveAt(done.Count - 1);
                continue;
            }
            string current = "/" + string.Join('/', done.Append(part));
            var info = new FileInfo(Map(current));
            if (info.LinkTarget is { } target)
            {
                if (++links > MaxLinks) throw new MigrationException($"{systemPath}: too many levels of symbolic links under {Directory}");
                if (target.StartsWith('/')) done.Clear();
                foreach (var piece in Split(target).Reverse()) pending.Push(piece);
                continue;
            }
            done.Add(part);
        }
        return "/" + string.Join('/', done);
    }

    /// <summary>The real file to open for a system path (links resolved inside the root).</summary>
    public string Open(string systemPath) => Map(Resolve(systemPath));

    public bool FileExists(string systemPath) => File.Exists(Open(systemPath));

    public bool DirectoryExists(string systemPath) => System.IO.Directory.Exists(Open(systemPath));

    public string ReadAllText(string systemPath) => File.ReadAllText(Open(systemPath));

    public byte[] ReadAllBytes(string systemPath) => File.ReadAllBytes(Open(systemPath));

    /// <summary>System paths of the entries of a directory (links in the directory's path resolved), sorted as glob(3) does (bytewise).</summary>
    public IEnumerable<string> List(string systemDirectory)
    {
        string real = Open(systemDirectory);
        if (!System.IO.Directory.Exists(real)) return [];
        string prefix = systemDirectory.TrimEnd('/');
        return System.IO.Directory.EnumerateFileSystemEntries(real)
            .Select(e => prefix + "/" + Path.GetFileName(e))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The symbolic link's own target as written, or null when the path is not a link.</summary>
    public string? LinkTarget(string systemPath) => new FileInfo(MapEntry(systemPath)).LinkTarget;

    /// <summary>The entry itself on disk: the directories leading to it resolved, the last component not (a link stays a link).</summary>
    public string MapEntry(string systemPath) => Map(Resolve(Parent(systemPath)).TrimEnd('/') + "/" + Path.GetFileName(systemPath.TrimEnd('/')));

    /// <summary>Whether something (file, directory or a link, even a dangling one) is at the path.</summary>
    public bool EntryExists(string systemPath)
    {
        string real = MapEntry(systemPath);
        return File.Exists(real) || System.IO.Directory.Exists(real) || new FileInfo(real).LinkTarget is not null;
    }

    /// <summary>A path for display and for scripts: the system path under the root's real directory.</summary>
    public string Display(string systemPath) => IsLive ? systemPath : Map(systemPath);

    private static string Parent(string systemPath)
    {
        string? parent = Path.GetDirectoryName(systemPath.TrimEnd('/'));
        return string.IsNullOrEmpty(parent) ? "/" : parent;
    }

    private static IEnumerable<string> Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
