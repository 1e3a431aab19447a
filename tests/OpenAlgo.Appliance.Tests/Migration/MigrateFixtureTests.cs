using System.Text;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>
/// <c>migrate</c> on each layout OpenAlgo's installers have produced, as a user runs it: the dry run
/// (golden plan, nothing touched), <c>--apply --root</c> (golden configuration that <c>check</c>
/// accepts, golden list of changed files with the .env diffs, golden rollback.sh), and the
/// generated rollback.sh run for real, after which every file is back byte for byte (content,
/// mode, owner, times). Golden files: Fixtures/&lt;layout&gt;/expected (MIGRATE_UPDATE_GOLDEN=1 rewrites them).
/// </summary>
public sealed class MigrateFixtureTests
{
    public static TheoryData<string> Layouts => new()
    {
        "debian-single-old",
        "debian-two-old",
        "debian-single-new",
        "debian-multi-three",
        "rhel-confd",
        "debian-extra-server",
        "debian-certbot-managed",
        "ubuntu-nginx-org-snippets",
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Dry_run_prints_the_plan_and_changes_nothing(string layout)
    {
        using var fixture = MigrationFixture.Create(layout);
        var before = fixture.Snapshot();

        var (exit, stdout, stderr) = fixture.Migrate();

        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal("", stderr);
        fixture.Golden("plan.txt", fixture.Normalize(stdout));
        Assert.Equal(before, fixture.Snapshot());
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Apply_writes_a_configuration_check_accepts_and_rollback_restores_every_file(string layout)
    {
        using var fixture = MigrationFixture.Create(layout);
        var before = fixture.Snapshot();
        var texts = Texts(fixture.Root);

        var (exit, stdout, stderr) = fixture.Migrate("--apply");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal("", stderr);
        fixture.Golden("apply.txt", fixture.Normalize(stdout));
        fixture.Golden("appsettings.Production.json", fixture.Read("/etc/openalgo-appliance/appsettings.Production.json"));
        fixture.Golden("changes.txt", Changes(before, fixture.Snapshot(), texts, fixture.Root));
        fixture.Golden("rollback.sh", fixture.Normalize(fixture.Read("/var/lib/openalgo-appliance/rollback.sh")));

        // The service reads /etc/openalgo-appliance; check run there reads the same files.
        var check = MigrationFixture.RunAppliance(fixture.Path("/etc/openalgo-appliance"), "check");
        Assert.True(check.Exit == 0, check.Stdout + check.Stderr);
        Assert.StartsWith("configuration OK", check.Stdout);

        var (rollbackExit, rollbackOutput) = Processes.Run("sh", null, fixture.Path("/var/lib/openalgo-appliance/rollback.sh"));
        Assert.True(rollbackExit == 0, rollbackOutput);
        fixture.Golden("rollback.txt", fixture.Normalize(rollbackOutput));

        AssertRestored(before, fixture.Snapshot());
        Assert.True(File.Exists(fixture.Path("/var/lib/openalgo-appliance/migration/rolled-back")));
    }

    /// <summary>After a rollback: every entry as before; in the state directory only the migration's record is left.</summary>
    internal static void AssertRestored(SortedDictionary<string, string> before, SortedDictionary<string, string> after)
    {
        var problems = new List<string>();
        foreach (var (path, entry) in before)
        {
            if (!after.TryGetValue(path, out var now)) problems.Add($"missing: {path} ({entry})");
            else if (now != entry) problems.Add($"differs: {path}\n    before {entry}\n    after  {now}");
        }
        foreach (var (path, entry) in after)
        {
            if (before.ContainsKey(path)) continue;
            // The state directory (and its parents, on a tree that had no /var/lib) stays with the migration's record.
            bool record = path is "var" or "var/lib" or MigrationFixture.StateDirectory or MigrationFixture.StateDirectory + "/rollback.sh"
                || path.StartsWith(MigrationFixture.StateDirectory + "/migration", StringComparison.Ordinal);
            if (!record) problems.Add($"left over: {path} ({entry})");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    internal static Dictionary<string, string> Texts(string root)
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            if (info.LinkTarget is null && info.Length < 65536) texts[file[root.Length..]] = File.ReadAllText(file);
        }
        return texts;
    }

    /// <summary>What --apply changed outside the appliance's state: each path added, removed or changed, with a line diff of text files that existed.</summary>
    internal static string Changes(SortedDictionary<string, string> before, SortedDictionary<string, string> after, Dictionary<string, string> texts, string root)
    {
        var result = new StringBuilder();
        foreach (var path in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            if (path.StartsWith(MigrationFixture.StateDirectory, StringComparison.Ordinal)) continue;
            before.TryGetValue(path, out var was);
            after.TryGetValue(path, out var now);
            if (was == now) continue;
            if (was is null) { result.Append("added   /").Append(path).Append('\n'); continue; }
            if (now is null) { result.Append("removed /").Append(path).Append(was.StartsWith('l') ? $" (link to {was.Split(' ')[4]})" : "").Append('\n'); continue; }
            if (was.StartsWith('d')) continue;
            result.Append("changed /").Append(path).Append('\n');
            if (texts.TryGetValue("/" + path, out var old) && !path.EndsWith(".json", StringComparison.Ordinal))
            {
                var oldLines = old.Split('\n');
                var newLines = File.ReadAllText(Path.Combine(root, path)).Split('\n');
                for (int i = 0; i < Math.Max(oldLines.Length, newLines.Length); i++)
                {
                    string? o = i < oldLines.Length ? oldLines[i] : null;
                    string? n = i < newLines.Length ? newLines[i] : null;
                    if (o == n) continue;
                    result.Append($"  {i + 1}:\n");
                    if (o is not null) result.Append("  - ").Append(o).Append('\n');
                    if (n is not null) result.Append("  + ").Append(n).Append('\n');
                }
                var (wasMode, nowMode) = (was.Split(' ')[1..3], now.Split(' ')[1..3]);
                if (!wasMode.SequenceEqual(nowMode)) result.Append($"  mode/owner {string.Join(' ', wasMode)} → {string.Join(' ', nowMode)}\n");
            }
        }
        return result.ToString();
    }
}
