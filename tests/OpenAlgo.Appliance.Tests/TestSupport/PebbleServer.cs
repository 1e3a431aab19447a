using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// Debian's Pebble (a real ACME server) and pebble-challtestsrv (its DNS: every name → 127.0.0.1) on
/// free loopback ports, with a throwaway CA for Pebble's own HTTPS. Started and stopped by PID.
/// The appliance's HTTP and HTTPS ports must be known first: Pebble validates against them.
/// </summary>
internal sealed class PebbleServer : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _dir;

    private PebbleServer(string dir) => _dir = dir;

    public required string DirectoryUrl { get; init; }
    public required string TrustedRootsFile { get; init; }
    public required int ListenPort { get; init; }

    /// <summary>Pebble's own HTTPS certificate and key (signed by <see cref="TrustedRootsFile"/>), for a stand-in in front of it.</summary>
    public string HttpsCertificateFile => Path.Combine(_dir, "cert.pem");

    public string HttpsKeyFile => Path.Combine(_dir, "key.pem");

    /// <summary>pebble-challtestsrv's management API: the DNS answers Pebble's validation uses.</summary>
    public int DnsManagementPort { get; init; }

    /// <summary>Makes Pebble resolve <paramref name="host"/> to <paramref name="address"/> (its validations then go there).</summary>
    public async Task PointAsync(string host, string address)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync($"http://127.0.0.1:{DnsManagementPort}/add-a",
            new StringContent($$"""{"host": "{{host.TrimEnd('.')}}.", "addresses": ["{{address}}"]}"""));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Undoes <see cref="PointAsync"/>: <paramref name="host"/> resolves to 127.0.0.1 again.</summary>
    public async Task ClearAsync(string host)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync($"http://127.0.0.1:{DnsManagementPort}/clear-a",
            new StringContent($$"""{"host": "{{host.TrimEnd('.')}}."}"""));
        response.EnsureSuccessStatusCode();
    }

    public const string EabKeyId = "kid-1";
    public const string EabHmacKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

    public static PebbleServer Start(int httpPort, int tlsPort, int validitySeconds = 0, int nonceRejectPercent = 0, int chainLength = 1, int? listenPort = null, bool requireEab = false)
    {
        if (!File.Exists("/usr/bin/pebble")) Assert.Fail("pebble (Debian package pebble) is required; .ci/run installs it");
        string dir = Directory.CreateTempSubdirectory("oa-pebble-").FullName;
        WriteHttpsCertificate(dir);
        int port = listenPort ?? TestAppliance.FreeTcpPort();
        int management = TestAppliance.FreeTcpPort();
        int dns = FreeUdpPort();
        int dnsManagement = TestAppliance.FreeTcpPort();
        File.WriteAllText(Path.Combine(dir, "pebble-config.json"), $$"""
            { "pebble": {
                "listenAddress": "127.0.0.1:{{port}}",
                "managementListenAddress": "127.0.0.1:{{management}}",
                "certificate": "{{dir}}/cert.pem", "privateKey": "{{dir}}/key.pem",
                "httpPort": {{httpPort}}, "tlsPort": {{tlsPort}},
                "ocspResponderURL": "", "externalAccountBindingRequired": {{(requireEab ? "true" : "false")}},
                "externalAccountMACKeys": { "{{EabKeyId}}": "{{EabHmacKey}}" }
                {{(validitySeconds > 0 ? $", \"certificateValidityPeriod\": {validitySeconds}" : "")}} } }
            """);
        var server = new PebbleServer(dir) { DirectoryUrl = $"https://127.0.0.1:{port}/dir", TrustedRootsFile = Path.Combine(dir, "ca.pem"), ListenPort = port, DnsManagementPort = dnsManagement };
        server.Launch("/usr/bin/pebble-challtestsrv", [], "-management", $"127.0.0.1:{dnsManagement}", "-dns01", $"127.0.0.1:{dns}",
            "-http01", "", "-https01", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "");
        server.Launch("/usr/bin/pebble", new Dictionary<string, string>
        {
            ["PEBBLE_VA_NOSLEEP"] = "1",
            ["PEBBLE_WFE_NONCEREJECT"] = nonceRejectPercent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PEBBLE_CHAIN_LENGTH"] = chainLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PEBBLE_AUTHZREUSE"] = "0",
        }, "-config", Path.Combine(dir, "pebble-config.json"), "-dnsserver", $"127.0.0.1:{dns}", "-strict=false");
        server.WaitUntilListening(port);
        return server;
    }

    private void Launch(string file, Dictionary<string, string> env, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (k, v) in env) start.Environment[k] = v;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private void WaitUntilListening(int port)
    {
        // Up to 60 s: Pebble started in 0.1–0.5 s on a quiet machine, and took over 10 s on the
        // shared 2-core one under a load average of 30.
        for (int i = 0; i < 600; i++)
        {
            try
            {
                using var tcp = new System.Net.Sockets.TcpClient();
                tcp.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(100);
            }
        }
        throw new TimeoutException("pebble did not start");
    }

    private static void WriteHttpsCertificate(string dir)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=pebble-test-https-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "cert.pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    private static int FreeUdpPort()
    {
        using var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
