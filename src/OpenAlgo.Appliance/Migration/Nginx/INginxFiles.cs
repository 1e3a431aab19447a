namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>Where nginx's files are read from: the (rooted) file system, or the files of an <c>nginx -T</c> dump.</summary>
internal interface INginxFiles
{
    /// <summary>Describes the source for the plan ("/etc/nginx/nginx.conf", "nginx -T output in dump.txt").</summary>
    string Description { get; }

    /// <summary>The main file (nginx.conf), or null when there is none (then sites-enabled/ and conf.d/ are read as the http context).</summary>
    string? MainFile { get; }

    bool Exists(string path);

    string Read(string path);

    /// <summary>The files an <c>include</c> pattern names, sorted as glob(3) sorts; directories skipped.</summary>
    IReadOnlyList<string> Expand(string pattern);
}
