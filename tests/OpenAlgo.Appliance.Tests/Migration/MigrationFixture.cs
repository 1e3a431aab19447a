using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>
/// One installer layout (Fixtures/&lt;layout&gt;/root, rendered from OpenAlgo's install.sh and
/// install-multi.sh templates) copied to a fresh directory that stands for <c>/</c>, with certbot-style
/// certificates made for it now (archive/NAME/*1.pem, relative links in live/NAME/), OpenAlgo's
/// .env files 0600 as the installers leave them. The directory is short: gunicorn stand-ins put
/// their unix sockets at the layout's paths inside it (108-byte limit).
/// </summary>
internal sealed partial class MigrationFixture : IDisposable
{
    public const string StateDirectory = "var/lib/openalgo-appliance";

    private MigrationFixture(string layout, string root)
    {
        Layout = layout;
        Root = root;
    }

    public string Layout { get; }

    /// <summary>The directory standing for <c>/</c>.</summary>
    public string Root { get; }

    public static string Source(string layout) => System.IO.Path.Combine(Processes.RepositoryRoot(), "tests", "OpenAlgo.Appliance.Tests", "Migration", "Fixtures", layout);

    public static MigrationFixture Create(string layout)
    {
        string root = System.IO.Path.Combine("/tmp", "oam-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var (exit, output) = Processes.Run("cp", null, "-a", System.IO.Path.Combine(Source(layout), "root") + "/.", root);
        Assert.True(exit == 0, output);
        foreach (var env in Directory.EnumerateFiles(root, ".env", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(env, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var fixture = new MigrationFixture(layout, root);
        foreach (var line in File.ReadAllLines(System.IO.Path.Combine(Source(layout), "certificates")).Where(l => l.Length > 0))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            fixture.Certbot(parts[0], parts[1..]);
        }
        return fixture;
    }

    public string Path(string systemPath) => System.IO.Path.Join(Root, systemPath);

    public string Read(string systemPath) => File.ReadAllText(Path(systemPath));

    /// <summary>A certbot lineage: a test CA's certificate for the names, 30 days old with 60 to go, as certbot lays it out.</summary>
    public void Certbot(string liveDirectory, IReadOnlyList<string> names, DateTimeOffset? notAfter = null)
    {
        string name = System.IO.Path.GetFileName(liveDirectory);
        string archive = Path($"/etc/letsencrypt/archive/{name}");
        Directory.CreateDirectory(archive);
        Directory.CreateDirectory(Path(liveDirectory));
        var (chain, key) = Issue(names, notAfter ?? DateTimeOffset.UtcNow.AddDays(60));
        File.WriteAllText(System.IO.Path.Combine(archive, "cert1.pem"), chain[0]);
        File.WriteAllText(System.IO.Path.Combine(archive, "chain1.pem"), chain[1]);
        File.WriteAllText(System.IO.Path.Combine(archive, "fullchain1.pem"), chain[0] + chain[1]);
        File.WriteAllText(System.IO.Path.Combine(archive, "privkey1.pem"), key);
        File.SetUnixFileMode(System.IO.Path.Combine(archive, "privkey1.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        foreach (var file in new[] { "cert", "chain", "fullchain", "privkey" })
        {
            string link = Path($"{liveDirectory}/{file}.pem");
            if (File.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
            File.CreateSymbolicLink(link, $"../../archive/{name}/{file}1.pem");
        }
    }

    private static (string[] Chain, string Key) Issue(IReadOnlyList<string> names, DateTimeOffset notAfter)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Fixture Test CA E9", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-365), DateTimeOffset.UtcNow.AddDays(3650));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var n in names) san.AddDnsName(n);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-30), notAfter, RandomNumberGenerator.GetBytes(16));
        return ([leaf.ExportCertificatePem() + "\n", ca.ExportCertificatePem() + "\n"], key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>Runs the appliance's own binary with the arguments; returns exit code, stdout, stderr.</summary>
    public static (int Exit, string Stdout, string Stderr) RunAppliance(string workingDirectory, params string[] args)
    {
        string dll = System.IO.Path.Combine(AppContext.BaseDirectory, "openalgo-appliance.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Appliance__", StringComparison.Ordinal) || k is "WEBSOCKET_PORT" or "ZMQ_PORT" or "CONFIGURATION_DIRECTORY" or "STATE_DIRECTORY").ToList())
        {
            start.Environment.Remove(key);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>migrate with --root this fixture (and more arguments).</summary>
    public (int Exit, string Stdout, string Stderr) Migrate(params string[] args) => RunAppliance(Root, ["migrate", "--root", Root, .. args]);

    /// <summary>
    /// Every entry under the root with what a byte-for-byte restore must bring back: type, mode,
    /// owner, group, modification time, link target, and the content's hash.
    /// </summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var (exit, output) = Processes.Run("find", Root, ".", "-mindepth", "1", "-printf", "%P\t%y\t%m\t%U\t%G\t%T@\t%l\n");
        Assert.True(exit == 0, output);
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            string path = fields[0];
            string type = fields[1];
            // A directory's own time changes whenever an entry is added and removed in it: its
            // contents are what is compared, not that.
            string time = type == "d" ? "" : fields[5];
            string hash = type == "f" ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(System.IO.Path.Combine(Root, path)))) : "";
            entries[path] = $"{type} {fields[2]} {fields[3]}:{fields[4]} {time} {fields[6]} {hash}";
        }
        return entries;
    }

    /// <summary>Text with the fixture's root, dates and times replaced, for golden files.</summary>
    public string Normalize(string text)
    {
        text = text.Replace(Root, "$ROOT", StringComparison.Ordinal);
        text = Timestamp().Replace(text, "YYYY-MM-DDTHH:MM:SSZ");
        text = Date().Replace(text, "YYYY-MM-DD");
        text = KeyRingFile().Replace(text, "key-GUID.xml");
        return text;
    }

    /// <summary>Compares with Fixtures/&lt;layout&gt;/expected/&lt;name&gt;; MIGRATE_UPDATE_GOLDEN=1 rewrites it instead.</summary>
    public void Golden(string name, string actual)
    {
        string path = System.IO.Path.Combine(Source(Layout), "expected", name);
        if (Environment.GetEnvironmentVariable("MIGRATE_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"no golden file {path} (MIGRATE_UPDATE_GOLDEN=1 writes it)");
        string expected = File.ReadAllText(path);
        if (expected != actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            int line = Enumerable.Range(0, Math.Min(e.Length, a.Length)).FirstOrDefault(i => e[i] != a[i], Math.Min(e.Length, a.Length));
            Assert.Fail($"{Layout}/expected/{name} differs at line {line + 1}:\n  expected: {(line < e.Length ? e[line] : "(end)")}\n  actual:   {(line < a.Length ? a[line] : "(end)")}\n--- actual ---\n{actual}");
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}")]
    private static partial Regex Date();

    /// <summary>DataProtection names its key files by a random id.</summary>
    [GeneratedRegex(@"key-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.xml")]
    private static partial Regex KeyRingFile();
}
