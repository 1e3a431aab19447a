using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpenAlgo.Appliance.Migration.Planning;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// <c>verify</c> for every site, against this machine (127.0.0.1 with the site's name as SNI and
/// Host, so DNS and hairpin NAT play no part): the certificate served covers the name and is not
/// expiring, the web app answers (not 502/504, not 421), and <c>/ws</c> upgrades. Any FAIL rolls back.
/// </summary>
internal sealed class VerifySitesStep(MigrationPlan plan) : MigrationStep
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public override string Description => $"verify every site on {plan.ListenHttps}: certificate, web app, /ws upgrade";

    public override void Run(ApplyContext context)
    {
        if (!context.Commands.Live)
        {
            context.Output.WriteLine("  (--root: not checked; on the machine: openalgo-appliance verify https://DOMAIN/ for each site)");
            return;
        }
        var failures = new List<string>();
        int colon = plan.ListenHttps.LastIndexOf(':');
        int port = int.Parse(plan.ListenHttps[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        // A wildcard listener answers on loopback; one bound to an address (nginx's listen 203.0.113.5:443) there.
        string address = plan.ListenHttps[..colon].Trim('[', ']') is var a && a is "" or "::" or "0.0.0.0" or "*" ? "127.0.0.1" : a;
        foreach (var site in plan.Sites)
        {
            foreach (var domain in site.Domains)
            {
                foreach (var (ok, line) in Probe(address, domain, port, site.CertificateHandling == CertificateHandling.IssueAcme))
                {
                    context.Output.WriteLine($"  {(ok ? "PASS" : "FAIL")} {site.Name} {line}");
                    if (!ok) failures.Add($"{domain}: {line}");
                }
            }
        }
        if (failures.Count > 0) throw new MigrationException("verification failed: " + string.Join("; ", failures));
    }

    public static IEnumerable<(bool Ok, string Line)> Probe(string address, string domain, int port, bool issuing)
    {
        var results = new List<(bool, string)>();
        X509Certificate2? leaf = null;
        try
        {
            using var stream = Connect(address, domain, port, out leaf);
        }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            results.Add((false, $"TLS handshake for {domain} on {address}:{port}: {ex.Message}"));
            return results;
        }
        if (leaf is null || !leaf.MatchesHostname(domain, allowWildcards: true, allowCommonName: false))
        {
            results.Add((issuing, $"certificate for {domain}: {(leaf is null ? "none" : "issued to " + leaf.Subject)}{(issuing ? " (ACME issuance under way)" : "")}"));
        }
        else
        {
            double days = (leaf.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays;
            results.Add((days > 1, $"certificate for {domain}: {leaf.Issuer}, valid until {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd}"));
        }

        string? status = Request(address, domain, port, $"GET / HTTP/1.1\r\nHost: {domain}\r\nUser-Agent: openalgo-appliance-migrate\r\nConnection: close\r\n\r\n");
        bool webOk = status is not null && !status.Contains(" 502 ", StringComparison.Ordinal) && !status.Contains(" 504 ", StringComparison.Ordinal)
            && !status.Contains(" 421 ", StringComparison.Ordinal) && !status.Contains(" 503 ", StringComparison.Ordinal);
        results.Add((webOk, $"https://{domain}/: {status ?? "no answer"}"));

        string key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        string? upgrade = Request(address, domain, port, $"GET /ws HTTP/1.1\r\nHost: {domain}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        results.Add((upgrade?.Contains(" 101 ", StringComparison.Ordinal) == true, $"wss://{domain}/ws upgrade: {upgrade ?? "no answer"}"));
        return results;
    }

    private static SslStream Connect(string address, string domain, int port, out X509Certificate2? leaf)
    {
        X509Certificate2? seen = null;
        var tcp = new TcpClient();
        using var cancel = new CancellationTokenSource(Timeout);
        tcp.ConnectAsync(address, port, cancel.Token).AsTask().GetAwaiter().GetResult();
        var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            seen = certificate is null ? null : new X509Certificate2(certificate);
            return true;
        });
        tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = domain, ApplicationProtocols = [SslApplicationProtocol.Http11] }, cancel.Token).GetAwaiter().GetResult();
        leaf = seen;
        return tls;
    }

    /// <summary>The status line of the answer to one raw request, or null.</summary>
    private static string? Request(string address, string domain, int port, string request)
    {
        try
        {
            using var tls = Connect(address, domain, port, out _);
            tls.Write(Encoding.ASCII.GetBytes(request));
            tls.ReadTimeout = (int)Timeout.TotalMilliseconds;
            var buffer = new byte[4096];
            int read = tls.Read(buffer);
            string text = Encoding.ASCII.GetString(buffer, 0, read);
            int end = text.IndexOf("\r\n", StringComparison.Ordinal);
            return end < 0 ? text : text[..end];
        }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            return null;
        }
    }
}
