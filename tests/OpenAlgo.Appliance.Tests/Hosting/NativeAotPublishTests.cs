using System.Diagnostics;
using System.Text.RegularExpressions;

using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Hosting;

/// <summary>
/// The design card's promise, as a test: the native-AOT publish succeeds with zero trim/AOT
/// warnings (the project turns them into errors; since the bus has its own ZeroMQ socket no
/// third-party assembly reports any either), and the binary runs.
/// </summary>
[Collection(OpenAlgo.Appliance.Tests.Documentation.CheckoutBuilds.Name)]
public sealed class NativeAotPublishTests
{
    [Fact]
    public void Publishes_native_aot_without_warnings_from_our_code_and_runs()
    {
        string root = Processes.RepositoryRoot();
        string output = Directory.CreateTempSubdirectory("oa-aot-").FullName;
        try
        {
            var (exit, log) = Processes.Run("dotnet", root, "publish", "src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj", "-c", "Release", "-r", "linux-x64", "-o", output, "-p:Version=0.0.0-test");
            Assert.True(exit == 0, log);
            var ours = Regex.Matches(log, @"warning (IL\d{4}|CS\d{4}|CA\d{4})[^\n]*").Select(m => m.Value)
                .Distinct().ToList();
            Assert.True(ours.Count == 0, string.Join('\n', ours));

            string binary = Path.Combine(output, "openalgo-appliance");
            Assert.True(File.Exists(binary));
            var (versionExit, version) = Processes.Run(binary, output, "--version");
            Assert.Equal(0, versionExit);
            Assert.StartsWith("0.0.0-test", version.Trim());

            // The Debian package from this binary: contents, and lintian clean where lintian is installed.
            // Built from a checkout only its owner can enter (cloned into /root and built as root):
            // lintian runs as nobody and must not need to enter the checkout.
            string checkout = PrivateCopyOfCheckout(root, output);
            string artifacts = Path.Combine(output, "artifacts");
            var env = $"PUBLISH_DIR={output} SKIP_PUBLISH=1 OUT={artifacts} VERSION=0.0.0~test";
            var (debExit, debLog) = Processes.Run("sh", checkout, "-c", $"{env} packaging/build-deb.sh");
            Assert.True(debExit == 0, debLog);
            string deb = Path.Combine(artifacts, "openalgo-appliance_0.0.0~test_amd64.deb");
            var (_, contents) = Processes.Run("dpkg-deb", root, "-c", deb);
            foreach (var path in new[] { "./usr/bin/openalgo-appliance", "./lib/systemd/system/openalgo-appliance.service", "./lib/systemd/system/openalgo-appliance-https.socket",
                "./usr/lib/sysusers.d/openalgo-appliance.conf", "./etc/openalgo-appliance/appsettings.Production.json", "./usr/share/man/man1/openalgo-appliance.1.gz",
                "./usr/share/doc/openalgo-appliance/migrate-from-nginx.md.gz" })
            {
                Assert.Contains(path, contents);
            }
            var (_, info) = Processes.Run("dpkg-deb", root, "-I", deb);
            Assert.Contains("libssl3 | libssl3t64", info);
            Assert.Contains("libsqlite3-0, libargon2-1 | libargon2-1t64", info);
            Assert.Contains("conffiles", info);

            // The single-file release: tarball + checksum that verifies.
            var (tarExit, tarLog) = Processes.Run("sh", checkout, "-c", $"PUBLISH_DIR={output} SKIP_PUBLISH=1 OUT={artifacts} VERSION=0.0.0-test packaging/build-tarball.sh");
            Assert.True(tarExit == 0, tarLog);
            var (sumExit, sumLog) = Processes.Run("sha256sum", artifacts, "-c", "openalgo-appliance-0.0.0-test-linux-x64.tar.gz.sha256");
            Assert.True(sumExit == 0, sumLog);
            var (_, listing) = Processes.Run("tar", artifacts, "-tzf", "openalgo-appliance-0.0.0-test-linux-x64.tar.gz");
            Assert.Contains("openalgo-appliance-0.0.0-test-linux-x64/openalgo-appliance", listing);
            Assert.Contains("openalgo-appliance-0.0.0-test-linux-x64/INSTALL", listing);
            Assert.Contains("openalgo-appliance-0.0.0-test-linux-x64/docs/migrate-from-nginx.md", listing);
            Assert.Contains("openalgo-appliance-0.0.0-test-linux-x64/systemd/openalgo-appliance.service", listing);

            // install/uninstall, staged under a root directory.
            string stage = Path.Combine(output, "stage");
            var (installExit, installLog) = Processes.Run(binary, output, "install", "--domain", "trade.example.com", "--email", "ops@example.com", "--accept-terms", "--root", stage, "--no-start");
            Assert.True(installExit == 0, installLog);
            Assert.True(File.Exists(Path.Combine(stage, "usr/bin/openalgo-appliance")));
            Assert.Contains("trade.example.com", File.ReadAllText(Path.Combine(stage, "etc/openalgo-appliance/appsettings.Production.json")));
            Assert.Contains("Type=notify", File.ReadAllText(Path.Combine(stage, "etc/systemd/system/openalgo-appliance.service")));
            var (checkExit, checkLog) = Processes.Run(Path.Combine(stage, "usr/bin/openalgo-appliance"), output, "check", "--config", Path.Combine(stage, "etc/openalgo-appliance/appsettings.Production.json"));
            Assert.True(checkExit == 0, checkLog);
            Assert.DoesNotContain("warning", checkLog); // the upstream was set (no OpenAlgo under the stage: its default port)
            var (uninstallExit, uninstallLog) = Processes.Run(binary, output, "uninstall", "--root", stage, "--purge");
            Assert.True(uninstallExit == 0, uninstallLog);
            Assert.False(File.Exists(Path.Combine(stage, "etc/systemd/system/openalgo-appliance.service")));
            Assert.False(Directory.Exists(Path.Combine(stage, "etc/openalgo-appliance")));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>
    /// The checkout's sources (no build output, no .git) under <paramref name="parent"/>/private
    /// (mode 0700), as a clone into /root would be.
    /// </summary>
    private static string PrivateCopyOfCheckout(string root, string parent)
    {
        string outer = Path.Combine(parent, "private");
        Directory.CreateDirectory(outer, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string copy = Path.Combine(outer, "repo");
        string[] skip = ["bin", "obj", ".git", "artifacts", "publish", "TestResults", "state", "logs"];
        void Copy(DirectoryInfo from, string to)
        {
            Directory.CreateDirectory(to);
            // Symbolic links stay links (the migration fixtures hold dangling ones, as /etc does).
            foreach (var file in from.GetFiles())
            {
                if (file.LinkTarget is { } target) File.CreateSymbolicLink(Path.Combine(to, file.Name), target);
                else file.CopyTo(Path.Combine(to, file.Name));
            }
            foreach (var dir in from.GetDirectories().Where(d => !skip.Contains(d.Name)))
            {
                if (dir.LinkTarget is { } target) Directory.CreateSymbolicLink(Path.Combine(to, dir.Name), target);
                else Copy(dir, Path.Combine(to, dir.Name));
            }
        }
        Copy(new DirectoryInfo(root), copy);
        return copy;
    }
}
