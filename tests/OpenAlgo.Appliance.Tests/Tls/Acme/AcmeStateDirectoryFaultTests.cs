using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls.Acme;
using OpenAlgo.Appliance.Tests.TestSupport;
using Xunit.Abstractions;

namespace OpenAlgo.Appliance.Tests.Tls.Acme;

/// <summary>
/// The state directory refusing a certificate write (docs/reliability.md, "State directory full or
/// read-only"): a 2 MiB tmpfs (root, as .ci/run runs) filled to the last byte, then remounted
/// read-only, each while a renewal lands. The renewed certificate is served from memory, ordered
/// once (not once per retry), saved as soon as the directory takes it again; the directory never
/// holds a torn or mismatched pair; a restart serves the last saved certificate without ordering.
/// </summary>
public sealed class AcmeStateDirectoryFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oa-acme-full-").FullName;
    private string State => Path.Combine(_root, "state");
    private bool _mounted;

    public void Dispose()
    {
        if (_mounted) Run("umount", "-l", State);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_full_then_read_only_state_directory_during_renewals_loses_no_certificate_and_orders_once_each()
    {
        if (Environment.UserName != "root") Assert.Fail("needs root to mount a tmpfs; .ci/run runs as root");
        Directory.CreateDirectory(State);
        Run("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", State);
        _mounted = true;

        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        using var pebble = PebbleServer.Start(http, https, validitySeconds: 30);
        await using var ca = await FaultyCa.StartAsync(pebble); // passes everything: it counts the orders
        var schedule = new AcmeSchedule(TimeSpan.FromMilliseconds(500), failures => TimeSpan.FromMilliseconds(300 * failures));
        Task<TestAppliance> StartAsync() => TestAppliance.StartAsync(o =>
        {
            o.UseTestCa(State, http, https, ca.DirectoryUrl, pebble.TrustedRootsFile, "full.test");
        }, services: s => s.AddSingleton(schedule));
        int Orders() => ca.Requests.Count(r => r.Path.EndsWith("/order-plz", StringComparison.Ordinal) || r.Path.Contains("new-order", StringComparison.Ordinal));

        string stored;
        await using (var appliance = await StartAsync())
        {
            var service = appliance.Services.GetRequiredService<AcmeCertificateService>();
            var first = await Eventually.ValueAsync(() => service.Issued, "the first certificate", TimeSpan.FromSeconds(60));
            await Eventually.TrueAsync(() => StoredSerial() == first.Leaf.SerialNumber, "the first certificate saved", TimeSpan.FromSeconds(30));
            int ordersBefore = Orders();

            // Disk full: a filler takes every free byte.
            string filler = Path.Combine(State, "filler");
            Fill(filler);
            var second = await Eventually.ValueAsync(() => service.Issued is { } c && c.Leaf.SerialNumber != first.Leaf.SerialNumber ? c : null, "the renewal while the disk is full", TimeSpan.FromSeconds(60));
            Assert.Equal(second.Leaf.SerialNumber, (await HandshakeAsync(https)).SerialNumber);   // served from memory
            await Task.Delay(3000);                                                              // several looks later...
            Assert.Equal(ordersBefore + 1, Orders());                                            // ...still one order
            Assert.Equal(first.Leaf.SerialNumber, StoredSerial());                               // the previous pair, whole
            AssertNoLeftovers();

            File.Delete(filler);
            await Eventually.TrueAsync(() => StoredSerial() == second.Leaf.SerialNumber, "the renewed certificate saved once there is room", TimeSpan.FromSeconds(30));
            Assert.Equal(ordersBefore + 1, Orders());

            // Read-only: the next renewal is served, kept in memory, saved after the remount.
            Run("mount", "-o", "remount,ro", State);
            var third = await Eventually.ValueAsync(() => service.Issued is { } c && c.Leaf.SerialNumber != second.Leaf.SerialNumber ? c : null, "the renewal while the directory is read-only", TimeSpan.FromSeconds(60));
            Assert.Equal(third.Leaf.SerialNumber, (await HandshakeAsync(https)).SerialNumber);
            await Task.Delay(3000);
            Assert.Equal(ordersBefore + 2, Orders());
            Assert.Equal(second.Leaf.SerialNumber, StoredSerial());
            Run("mount", "-o", "remount,rw", State);
            await Eventually.TrueAsync(() => StoredSerial() == third.Leaf.SerialNumber, "the renewed certificate saved after the remount", TimeSpan.FromSeconds(30));
            AssertNoLeftovers();
            stored = third.Leaf.SerialNumber;
            output.WriteLine($"orders: {Orders()} for 3 certificates; served throughout");
        }

        // A restart finds the last certificate and serves it without asking the CA for another.
        int ordersAtRestart = Orders();
        await using (var again = await StartAsync())
        {
            Assert.Equal(stored, (await HandshakeAsync(https)).SerialNumber);
            Assert.Equal(ordersAtRestart, Orders());
        }
    }

    private string? StoredSerial()
    {
        string chain = Path.Combine(State, "acme", AcmeStore.ChainFileName);
        if (!File.Exists(chain)) return null;
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(chain));
        return certificate.SerialNumber;
    }

    private void AssertNoLeftovers() =>
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(State, "acme")), f => f.EndsWith(".tmp", StringComparison.Ordinal) || f.EndsWith(".next", StringComparison.Ordinal));

    /// <summary>Writes until the filesystem says ENOSPC.</summary>
    private static void Fill(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[4096];
        try
        {
            while (true) stream.Write(block);
        }
        catch (IOException)
        {
        }
        try
        {
            while (true) stream.Write(block, 0, 1);
        }
        catch (IOException)
        {
        }
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {error}");
    }

    private static async Task<X509Certificate2> HandshakeAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        X509Certificate2? leaf = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, _, _) =>
        {
            leaf = new X509Certificate2(cert!);
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "full.test" });
        return leaf!;
    }
}
