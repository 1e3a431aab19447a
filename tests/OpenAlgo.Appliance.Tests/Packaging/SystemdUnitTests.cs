using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Packaging;

/// <summary>The shipped units: systemd's own verifier is clean and the sandbox exposure stays at or below 2.0.</summary>
public sealed class SystemdUnitTests
{
    private static readonly string Units = Path.Combine(Processes.RepositoryRoot(), "packaging", "systemd");

    [Fact]
    public void Service_exposure_is_at_most_2()
    {
        var (exit, output) = Processes.Run("systemd-analyze", null, "security", "--offline=true", Path.Combine(Units, "openalgo-appliance.service"));
        var match = Regex.Match(output, @"Overall exposure level for openalgo-appliance\.service: (\d+\.\d)");
        Assert.True(match.Success, output);
        Assert.True(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) <= 2.0, output);
        Assert.Equal(0, exit);
    }

    [Fact]
    public void Units_verify_clean_in_a_staged_root()
    {
        string root = Directory.CreateTempSubdirectory("oa-units-").FullName;
        try
        {
            // systemd-analyze verify resolves ExecStart= and the targets inside --root.
            Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
            Directory.CreateDirectory(Path.Combine(root, "bin"));
            Directory.CreateDirectory(Path.Combine(root, "etc/systemd/system"));
            foreach (var stub in new[] { "usr/bin/openalgo-appliance", "bin/kill" })
            {
                File.WriteAllText(Path.Combine(root, stub), "#!/bin/sh\n");
                File.SetUnixFileMode(Path.Combine(root, stub), (UnixFileMode)Convert.ToInt32("755", 8));
            }
            Directory.CreateDirectory(Path.Combine(root, "lib/systemd"));
            Assert.Equal(0, Processes.Run("cp", null, "-a", "/lib/systemd/system", Path.Combine(root, "lib/systemd/")).Exit); // keeps the .wants symlinks
            var units = Directory.GetFiles(Units).Where(f => f.EndsWith(".service") || f.EndsWith(".socket")).ToList();
            Assert.Equal(4, units.Count);
            foreach (var unit in units) File.Copy(unit, Path.Combine(root, "etc/systemd/system", Path.GetFileName(unit)));
            var (exit, output) = Processes.Run("systemd-analyze", null, ["verify", "--man=no", $"--root={root}", .. units.Select(u => "/etc/systemd/system/" + Path.GetFileName(u))]);
            Assert.True(exit == 0 && output.Trim().Length == 0, output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Socket_units_name_their_descriptors_as_the_appliance_expects()
    {
        foreach (var name in new[] { "https", "http", "internal" })
        {
            string text = File.ReadAllText(Path.Combine(Units, $"openalgo-appliance-{name}.socket"));
            Assert.Contains($"FileDescriptorName={name}", text);
            Assert.Contains("Service=openalgo-appliance.service", text);
        }
    }

}
