using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Tests.Tls.Acme;

/// <summary>
/// When the renewal loop wakes, on an injected clock: at the renewal point even between two periodic
/// checks, and at a random moment of the CA's ARI window that survives a restart. The CA here is
/// unreachable or the ARI stub, so "renewal attempted" shows as a failed attempt.
/// </summary>
public sealed class RenewalTimingTests : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(10);
    private readonly string _state = Directory.CreateTempSubdirectory("oa-renew-").FullName;
    // Whole seconds: certificate times have no fractions, so expectations stay exact.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public void Dispose()
    {
        try { Directory.Delete(_state, recursive: true); } catch (IOException) { }
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private ApplianceOptions Options(string directoryUrl, string trustedRoots = "")
    {
        var options = new ApplianceOptions { StateDirectory = _state };
        options.Tls.Mode = TlsMode.Acme;
        options.Tls.Domains = ["renew.test"];
        options.Tls.Acme.DirectoryUrl = directoryUrl;
        options.Tls.Acme.TrustedRootsFile = trustedRoots;
        options.Tls.Acme.AcceptTermsOfService = true;
        options.Tls.Acme.RenewCheckInterval = Period;
        return options;
    }

    private AcmeCertificateService Service(ApplianceOptions options, Func<double>? random = null) =>
        new(options, new CertificateHolder(), new AcmeChallengeResponder(), AcmeSchedule.From(options.Tls.Acme) with { Random = random ?? Random.Shared.NextDouble },
            _time, NullLogger<AcmeCertificateService>.Instance);

    /// <summary>A stored certificate for renew.test, issued by a CA (with the authority key id ARI needs).</summary>
    private void StoreCertificate(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=renewal-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(notBefore.AddDays(-1), notAfter.AddDays(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=renew.test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("renew.test");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var leaf = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        new AcmeStore(_state).SaveCertificate(leaf.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>
    /// Waits until the loop is asleep again after the clock moved: its wake-up is in the future (every
    /// sleep is at least a second), so a wake-up the clock has already passed is not mistaken for it.
    /// </summary>
    private async Task<DateTimeOffset> LoopSleepsUntilAsync(AcmeCertificateService service)
    {
        for (int i = 0; i < 300; i++)
        {
            if (service.NextCheck is { } next && next > Now) return next;
            await Task.Delay(50);
        }
        throw new TimeoutException("the renewal loop never went to sleep");
    }

    private static async Task WaitForFailuresAsync(AcmeCertificateService service, int failures)
    {
        for (int i = 0; i < 300 && service.Failures < failures; i++) await Task.Delay(50);
        Assert.Equal(failures, service.Failures);
    }

    [Fact]
    public async Task The_loop_wakes_at_the_renewal_point_between_two_periodic_checks()
    {
        // A one-hour certificate (renewed at half its life) whose renewal point is 3 minutes away,
        // with checks every 10 minutes: the loop must not sleep past it.
        StoreCertificate(Now.AddMinutes(-27), Now.AddMinutes(33));
        using var service = Service(Options($"https://127.0.0.1:{TestAppliance.FreeTcpPort()}/dir"));
        await service.StartAsync(CancellationToken.None);
        Assert.Equal(Now.AddMinutes(3), service.RenewAt);
        Assert.Equal(Now.AddMinutes(3), await LoopSleepsUntilAsync(service));

        _time.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(1));
        await Task.Delay(300);
        Assert.Equal(0, service.Failures); // not before its time
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForFailuresAsync(service, 1); // the CA is unreachable: the attempt is what counts
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Far_from_renewal_the_loop_still_looks_every_period()
    {
        StoreCertificate(Now.AddDays(-10), Now.AddDays(80));
        using var service = Service(Options($"https://127.0.0.1:{TestAppliance.FreeTcpPort()}/dir"), random: () => 0.5);
        await service.StartAsync(CancellationToken.None);
        Assert.Equal(Now + Period, await LoopSleepsUntilAsync(service)); // ±10 % jitter, here its middle
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Ari_renews_at_a_random_moment_of_the_window_kept_across_restarts()
    {
        await using var ca = await AriStubServer.StartAsync();
        var start = Now.AddHours(1);
        var end = Now.AddHours(3);
        ca.Window = (start, end);
        StoreCertificate(Now.AddDays(-10), Now.AddDays(80));
        var options = Options(ca.DirectoryUrl, ca.TrustedRootsFile);

        DateTimeOffset chosen;
        using (var first = Service(options, random: () => 0.25))
        {
            await first.StartAsync(CancellationToken.None);
            await LoopSleepsUntilAsync(first);
            Assert.Equal(1, ca.RenewalInfoRequests);
            chosen = first.Window!.Chosen;
            // The jitter reaches the policy: a quarter into the window, not its midpoint.
            Assert.Equal(start + (end - start) * 0.25, chosen);
            Assert.Equal(chosen, first.RenewAt);
            await first.StopAsync(CancellationToken.None);
        }
        // Saved with the ACME state, atomically (no temporary file left behind).
        string saved = File.ReadAllText(Path.Combine(_state, "acme", "renewal-window.json"));
        Assert.Contains("\"chosen\"", saved);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_state, "acme")), f => f.EndsWith(".tmp", StringComparison.Ordinal));

        // A restart keeps the moment (another roll would land elsewhere) and does not ask the CA
        // again before its Retry-After.
        using var second = Service(options, random: () => 0.9);
        await second.StartAsync(CancellationToken.None);
        await LoopSleepsUntilAsync(second);
        Assert.Equal(1, ca.RenewalInfoRequests);
        Assert.Equal(chosen, second.Window!.Chosen);

        // Nothing happens before the chosen moment; at it, the renewal is attempted.
        _time.Advance(chosen - Now - TimeSpan.FromSeconds(1));
        await LoopSleepsUntilAsync(second);
        Assert.Equal(0, second.Failures);
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForFailuresAsync(second, 1);
        await second.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_window_the_CA_moves_gets_a_new_moment_and_an_unchanged_one_keeps_it()
    {
        await using var ca = await AriStubServer.StartAsync();
        ca.Window = (Now.AddHours(1), Now.AddHours(3));
        ca.RetryAfterSeconds = 60;
        StoreCertificate(Now.AddDays(-10), Now.AddDays(80));
        double roll = 0.25;
        using var service = Service(Options(ca.DirectoryUrl, ca.TrustedRootsFile), random: () => roll);
        await service.StartAsync(CancellationToken.None);
        await LoopSleepsUntilAsync(service);
        var first = service.Window!.Chosen;

        // Same window at the next ask: the moment stays, whatever the dice say now.
        roll = 0.75;
        _time.Advance(Period * 1.1);
        for (int i = 0; i < 100 && ca.RenewalInfoRequests < 2; i++) await Task.Delay(50);
        Assert.Equal(2, ca.RenewalInfoRequests);
        await LoopSleepsUntilAsync(service);
        Assert.Equal(first, service.Window!.Chosen);

        // The CA moves the window earlier (e.g. ahead of a revocation): a new moment inside it.
        var (newStart, newEnd) = (Now.AddMinutes(20), Now.AddMinutes(40));
        ca.Window = (newStart, newEnd);
        _time.Advance(Period * 1.1);
        for (int i = 0; i < 100 && ca.RenewalInfoRequests < 3; i++) await Task.Delay(50);
        var next = await LoopSleepsUntilAsync(service);
        Assert.Equal(newStart + (newEnd - newStart) * 0.75, service.Window!.Chosen);
        Assert.True(next <= service.Window.Chosen);
        await service.StopAsync(CancellationToken.None);
    }
}
