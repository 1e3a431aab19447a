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

    private static string[] DocsPages() => Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(Path.GetFileName).ToArray()!;

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
    public void The_tarball_ships_every_page_and_every_link_between_them_resolves()
    {
        string publish = StandInBinary(), output = Path.Combine(_dir, "out");
        var (exit, log) = Processes.Run("sh", Root, "-c", $"PUBLISH_DIR={publish} SKIP_PUBLISH=1 OUT={output} VERSION=0.0.0-docs packaging/build-tarball.sh");
        Assert.True(exit == 0, log);
        var (_, _) = Processes.Run("tar", output, "-xzf", "openalgo-appliance-0.0.0-docs-linux-x64.tar.gz");
        string docs = Path.Combine(output, "openalgo-appliance-0.0.0-docs-linux-x64", "docs");
        Assert.Equal(DocsPages().Order(), Directory.GetFiles(docs).Select(Path.GetFileName).Order());
        var broken = Directory.GetFiles(docs, "*.md")
            .SelectMany(page => RelativeLinks(File.ReadAllText(page), Path.GetFileName(page)))
            .Where(link => !File.Exists(Path.Combine(docs, link.Target)))
            .Select(link => $"{link.Page} → {link.Target}").ToList();
        Assert.True(broken.Count == 0, "links to pages the tarball does not ship: " + string.Join(", ", broken));
    }

    [Fact]
    public void The_deb_ships_every_page_and_every_link_between_them_resolves()
    {
        string publish = StandInBinary(), output = Path.Combine(_dir, "out");
        var (exit, log) = Processes.Run("sh", Root, "-c", $"PUBLISH_DIR={publish} SKIP_PUBLISH=1 OUT={output} VERSION=0.0.0~docs LINT=0 packaging/build-deb.sh");
        Assert.True(exit == 0, log);
        var (_, contents) = Processes.Run("dpkg-deb", output, "-c", "openalgo-appliance_0.0.0~docs_amd64.deb");
        var shipped = Regex.Matches(contents, @"\./usr/share/doc/openalgo-appliance/([^/\s]+\.md)\.gz").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(DocsPages().Order(), shipped.Order());
        var broken = DocsPages()
            .SelectMany(page => RelativeLinks(File.ReadAllText(Path.Combine(Root, "docs", page)), page))
            .Where(link => !shipped.Contains(link.Target))
            .Select(link => $"{link.Page} → {link.Target}").ToList();
        Assert.True(broken.Count == 0, "links to pages the .deb does not ship: " + string.Join(", ", broken));
    }
}
