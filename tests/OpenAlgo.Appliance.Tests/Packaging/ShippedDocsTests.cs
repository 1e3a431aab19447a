using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Packaging;

/// <summary>
/// The docs the .deb and the tarball ship are whole: every page of docs/ is in both, and every
/// relative link in a shipped page leads to a page that is shipped too. The binary is a stand-in:
/// what is checked here is the packaging scripts, not the build.
/// </summary>
public sealed class ShippedDocsTests : IDisposable
{
    private static readonly string Root = Processes.RepositoryRoot();
    private readonly string _dir = Directory.CreateTempSubdirectory("oa-docs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string StandInBinary()
    {
        string publish = Path.Combine(_dir, "publish");
        Directory.CreateDirectory(publish);
        string binary = Path.Combine(publish, "openalgo-appliance");
        File.WriteAllText(binary, "#!/bin/sh\necho 0.0.0-docs\n");
        File.SetUnixFileMode(binary, (UnixFileMode)Convert.ToInt32("755", 8));
        return publish;
    }

    private static IEnumerable<(string Page, string Target)> RelativeLinks(string markdown, string page) =>
        Regex.Matches(markdown, @"\]\(([^)\s]+)\)").Select(m => m.Groups[1].Value)
            .Where(target => !target.Contains("://", StringComparison.Ordinal) && !target.StartsWith('#') && !target.StartsWith("mailto:", StringComparison.Ordinal))
            .Select(target => (page, target.Split('#')[0]));

    /// <summary>Every file under docs/, relative to it: the pages and what they link to.</summary>
    private static string[] DocsFiles()
    {
        string docs = Path.Combine(Root, "docs");
        return Directory.GetFiles(docs, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(docs, f)).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Links of every page, as paths relative to docs/.</summary>
    private static IEnumerable<(string Page, string Target)> LinksBetweenDocs(string docs) =>
        Directory.GetFiles(docs, "*.md", SearchOption.AllDirectories)
            .SelectMany(page => RelativeLinks(File.ReadAllText(page), Path.GetRelativePath(docs, page)))
            .Where(link => link.Target.Length > 0)
            .Select(link => (link.Page, Path.GetRelativePath(docs, Path.GetFullPath(Path.Combine(docs, Path.GetDirectoryName(link.Page)!, link.Target)))));

    [Fact]
    public void Links_in_the_checkouts_documents_lead_to_files_that_exist()
    {
        var documents = new[] { "README.md", "ARCHITECTURE.md", "packaging/README.md", "bench/README.md" }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => Path.GetRelativePath(Root, f)))
            .Where(d => File.Exists(Path.Combine(Root, d)));
        var broken = documents
            .SelectMany(d => RelativeLinks(File.ReadAllText(Path.Combine(Root, d)), d))
            .Where(link => link.Target.Length > 0 && !Path.Exists(Path.Combine(Root, Path.GetDirectoryName(link.Page)!, link.Target)))
            .Select(link => $"{link.Page} → {link.Target}").ToList();
        Assert.True(broken.Count == 0, "links to files that do not exist: " + string.Join(", ", broken));
    }

    [Fact]
    public void The_tarball_ships_all_of_docs_and_every_link_between_them_resolves()
    {
        string publish = StandInBinary(), output = Path.Combine(_dir, "out");
        var (exit, log) = Processes.Run("sh", Root, "-c", $"PUBLISH_DIR={publish} SKIP_PUBLISH=1 OUT={output} VERSION=0.0.0-docs packaging/build-tarball.sh");
        Assert.True(exit == 0, log);
        Processes.Run("tar", output, "-xzf", "openalgo-appliance-0.0.0-docs-linux-x64.tar.gz");
        string docs = Path.Combine(output, "openalgo-appliance-0.0.0-docs-linux-x64", "docs");
        Assert.Equal(DocsFiles(), Directory.GetFiles(docs, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(docs, f)).Order(StringComparer.Ordinal));
        var broken = LinksBetweenDocs(docs).Where(link => !File.Exists(Path.Combine(docs, link.Target))).Select(link => $"{link.Page} → {link.Target}").ToList();
        Assert.True(broken.Count == 0, "links to files the tarball does not ship: " + string.Join(", ", broken));
    }

    [Fact]
    public void The_deb_ships_all_of_docs_and_every_link_between_them_resolves()
    {
        string publish = StandInBinary(), output = Path.Combine(_dir, "out");
        var (exit, log) = Processes.Run("sh", Root, "-c", $"PUBLISH_DIR={publish} SKIP_PUBLISH=1 OUT={output} VERSION=0.0.0~docs LINT=0 packaging/build-deb.sh");
        Assert.True(exit == 0, log);
        var (_, contents) = Processes.Run("dpkg-deb", output, "-c", "openalgo-appliance_0.0.0~docs_amd64.deb");
        // Pages are gzipped (NAME.md.gz), everything else is as in docs/.
        var shipped = Regex.Matches(contents, @"\./usr/share/doc/openalgo-appliance/(\S+)").Select(m => m.Groups[1].Value)
            .Where(f => !f.EndsWith('/') && f is not ("copyright" or "changelog.gz"))
            .Select(f => f.EndsWith(".md.gz", StringComparison.Ordinal) ? f[..^3] : f)
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(DocsFiles(), shipped);
        var broken = LinksBetweenDocs(Path.Combine(Root, "docs")).Where(link => !shipped.Contains(link.Target)).Select(link => $"{link.Page} → {link.Target}").ToList();
        Assert.True(broken.Count == 0, "links to files the .deb does not ship: " + string.Join(", ", broken));
    }
}
