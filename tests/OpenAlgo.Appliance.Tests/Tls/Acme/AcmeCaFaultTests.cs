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
/// The CA misbehaving during a renewal (docs/reliability.md, "ACME CA down, 500, 429"): a stand-in in
/// front of a real Pebble answers 500, then 429 with Retry-After, then cuts connections, then lets
/// the renewal through. The previous certificate is served throughout; Retry-After is honoured;
/// the renewal succeeds once the CA answers, with no restart.
/// </summary>
public sealed class AcmeCaFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("oa-acme-fault-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_state, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_ca_answering_500_then_429_with_retry_after_then_nothing_keeps_the_old_certificate_served_and_the_renewal_lands_when_it_answers()
    {
        int http = TestAppliance.FreeTcpPort(), https = TestAppliance.FreeTcpPort();
        // 30 s certificates: renewal due at 2/3, 20 s after issuance.
        using var pebble = PebbleServer.Start(http, https, validitySeconds: 30);
        await using var ca = await FaultyCa.StartAsync(pebble);
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.UseTestCa(_state, http, https, ca.DirectoryUrl, pebble.TrustedRootsFile, "faults.test");
        }, services: s => s.AddSingleton(new AcmeSchedule(TimeSpan.FromMilliseconds(500), failures => TimeSpan.FromMilliseconds(300 * failures))));
        var service = appliance.Services.GetRequiredService<AcmeCertificateService>();
        var first = await Eventually.ValueAsync(() => service.Issued, "the first certificate", TimeSpan.FromSeconds(60));
        string serial = first.Leaf.SerialNumber;

        // 500 on every request from now on: the renewal (due in ~20 s) fails and is retried on the backoff.
        ca.Fault = CaFault.ServerError;
        await Eventually.TrueAsync(() => service.Failures >= 3, "three failed renewal attempts", TimeSpan.FromSeconds(60));
        Assert.Equal(serial, (await HandshakeAsync(https)).SerialNumber);

        // 429 with Retry-After: 3 s. The backoff here is well under that: the next attempt must still wait 3 s.
        ca.Fault = CaFault.RateLimited;
        var limitedFrom = ca.Now;
        await Eventually.TrueAsync(() => Limited(ca, limitedFrom).Count >= 3, "three rate-limited attempts", TimeSpan.FromSeconds(60));
        var limited = Limited(ca, limitedFrom);
        for (int i = 1; i < limited.Count; i++)
        {
            var gap = limited[i] - limited[i - 1];
            output.WriteLine($"429 → next attempt after {gap.TotalSeconds:0.00} s");
            Assert.True(gap >= TimeSpan.FromSeconds(2.9), $"an attempt {gap.TotalSeconds:0.00} s after a 429 that said Retry-After: 3");
        }
        Assert.Equal(serial, (await HandshakeAsync(https)).SerialNumber);

        // Connections cut without an answer.
        ca.Fault = CaFault.Abort;
        int failures = service.Failures;
        await Eventually.TrueAsync(() => service.Failures >= failures + 2, "attempts against a CA that cuts connections", TimeSpan.FromSeconds(60));
        Assert.Equal(serial, (await HandshakeAsync(https)).SerialNumber);

        // The CA answers again: renewed in place, served from the next handshake.
        var back = Stopwatch.StartNew();
        ca.Fault = CaFault.None;
        var renewed = await Eventually.ValueAsync(() => service.Issued is { } c && c.Leaf.SerialNumber != serial ? c : null, "the renewed certificate", TimeSpan.FromSeconds(60));
        output.WriteLine($"renewed {back.Elapsed.TotalSeconds:0.0} s after the CA came back; failed attempts before: {service.FailuresTotal}");
        Assert.Equal(renewed.Leaf.SerialNumber, (await HandshakeAsync(https)).SerialNumber);
        await Eventually.TrueAsync(() => service.Failures == 0, "the failure count reset after the renewal");
    }

    /// <summary>
    /// When each rate-limited attempt began: 429s come in bursts (the renewal-information look, then
    /// the order, each reading the directory), one burst per attempt, well under half a second long.
    /// </summary>
    private static List<TimeSpan> Limited(FaultyCa ca, TimeSpan from)
    {
        var starts = new List<TimeSpan>();
        TimeSpan? last = null;
        foreach (var r in ca.Requests.Where(r => r.At >= from && r.Status == 429))
        {
            if (last is null || r.At - last > TimeSpan.FromSeconds(0.5)) starts.Add(r.At);
            last = r.At;
        }
        return starts;
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
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "faults.test" });
        return leaf!;
    }
}
