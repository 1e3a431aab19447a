namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// Runs the executable in a private mount namespace (<c>unshare --mount</c>) where system folders
/// (/etc, /var/lib, /usr/share/doc …) are overlays: what a package install would put there is
/// written to the overlay's upper folder under the test's own directory, never to the host.
/// Needs root, as .ci/run runs.
/// </summary>
internal static class PrivateMounts
{
    public static void Require()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/unshare"))
        {
            Assert.Fail("needs root and unshare (util-linux) for a private mount namespace; .ci/run runs as root");
        }
    }

    /// <summary>
    /// The wrapper for <see cref="ApplianceProcess.StartUnder"/>: overlays each of
    /// <paramref name="folders"/> with <c>UPPER/&lt;folder&gt;</c> (created here), runs
    /// <paramref name="setup"/> in the namespace, then the executable with its arguments untouched.
    /// </summary>
    public static string[] Wrapper(string workDirectory, IEnumerable<string> folders, string setup, out string upper)
    {
        upper = Path.Combine(workDirectory, "upper");
        string work = Path.Combine(workDirectory, "overlay-work");
        var script = new System.Text.StringBuilder("set -e\n");
        foreach (string folder in folders)
        {
            string relative = folder.TrimStart('/');
            Directory.CreateDirectory(Path.Combine(upper, relative));
            Directory.CreateDirectory(Path.Combine(work, relative));
            script.Append($"mount -t overlay overlay -o lowerdir={folder},upperdir={upper}/{relative},workdir={work}/{relative} {folder}\n");
        }
        script.Append(setup).Append("\nexec \"$@\"\n");
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script.ToString(), "sh"];
    }
}
