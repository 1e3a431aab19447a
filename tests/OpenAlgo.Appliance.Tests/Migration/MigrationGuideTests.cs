using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>
/// docs/migrate-from-nginx.md against what runs it: every shell block of the guide is run, as
/// written, by packaging/test-in-systemd.sh (opt-in: a booted Debian 12 with nginx and two OpenAlgo
/// stand-ins), and the plan the guide shows is the plan migrate prints for that layout.
/// </summary>
public sealed partial class MigrationGuideTests
{
    private static string Guide => File.ReadAllText(Path.Combine(Processes.RepositoryRoot(), "docs", "migrate-from-nginx.md"));

    [Fact]
    public void Every_shell_block_of_the_guide_is_run_by_the_container_test()
    {
        int blocks = Regex.Matches(Guide, "^```sh$", RegexOptions.Multiline).Count;
        Assert.True(blocks > 0);
        string script = File.ReadAllText(Path.Combine(Processes.RepositoryRoot(), "packaging", "test-in-systemd.sh"));
        var run = BlockNumbers().Matches(script).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var missing = Enumerable.Range(1, blocks).Where(n => !run.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"shell blocks of docs/migrate-from-nginx.md that packaging/test-in-systemd.sh does not run: {string.Join(", ", missing)}");
        Assert.DoesNotContain(run, n => n > blocks);
    }

    [Fact]
    public void The_plan_the_guide_shows_is_what_migrate_prints_for_an_install_multi_host()
    {
        // The untyped block after "the plan begins (shortened):"; "…" stands for text left out.
        string guide = Guide;
        int at = guide.IndexOf("the plan begins (shortened):", StringComparison.Ordinal);
        Assert.True(at >= 0, "the guide no longer shows a plan");
        int open = guide.IndexOf("```\n", at, StringComparison.Ordinal) + 4;
        int close = guide.IndexOf("\n```", open, StringComparison.Ordinal);
        var shown = guide[open..close].Split('\n');

        var plan = File.ReadAllText(Path.Combine(MigrationFixture.Source("debian-multi-three"), "expected", "plan.txt")).Split('\n');
        int next = 0;
        foreach (var line in shown)
        {
            var parts = Date().Replace(line, "YYYY-MM-DD").Split('…');
            int found = Array.FindIndex(plan, next, l => Matches(l, parts));
            Assert.True(found >= 0, $"the guide shows a line migrate does not print (in this order):\n  {line}");
            next = found + 1;
        }

        static bool Matches(string line, string[] parts)
        {
            if (!line.StartsWith(parts[0], StringComparison.Ordinal)) return false;
            int position = parts[0].Length;
            foreach (var part in parts.Skip(1))
            {
                int index = line.IndexOf(part, position, StringComparison.Ordinal);
                if (index < 0) return false;
                position = index + part.Length;
            }
            return parts.Length > 1 || line.Length == parts[0].Length;
        }
    }

    /// <summary><c>run_block "ENV" N</c> and <c>doc_block N</c> in the container test.</summary>
    [GeneratedRegex("""(?:run_block\s+(?:"[^"]*"|'[^']*')\s+|doc_block\s+)(\d+)""")]
    private static partial Regex BlockNumbers();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}")]
    private static partial Regex Date();
}
