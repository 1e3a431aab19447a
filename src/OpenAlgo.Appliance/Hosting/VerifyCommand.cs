using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>verify [URL] [--api-key K]</c>: the checks a user did by hand after an install — TLS handshake
/// and certificate (issuer, names, days left), the WebSocket upgrade on <c>/ws</c>, and with a key:
/// authenticate, subscribe, first tick. One PASS/WARN/FAIL line each; exit 1 if anything failed.
/// </summary>
internal sealed class VerifyCommand(TextWriter output)
{
    private int _failures;

    public static string DefaultUrl(string? configFile)
    {
        try
        {
            var options = ApplianceApp.Load(demo: false, configFile);
            string host = options.Tls.Domains.FirstOrDefault() ?? "127.0.0.1";
            ListenAddress.TryParse(options.Listen.Https, out var https);
            return https.Port == 443 ? $"https://{host}/" : $"https://{host}:{https.Port}/";
        }
        catch (ConfigurationErrorsException)
        {
            return "https://127.0.0.1/";
        }
    }

    public async Task<int> RunAsync(Uri url, string? apiKey, string symbol, CancellationToken cancellationToken)
    {
        string host = url.Host;
        int port = url.IsDefaultPort ? 443 : url.Port;
        X509Certificate2? certificate = null;
        SslPolicyErrors errors = SslPolicyErrors.None;
        try
        {
            using var tcp = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await tcp.ConnectAsync(host, port, timeout.Token);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, _, e) =>
            {
                certificate = cert is null ? null : new X509Certificate2(cert);
                errors = e;
                return true;
            });
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, timeout.Token);
            Pass($"TLS handshake with {host}:{port}: {tls.SslProtocol}, {tls.NegotiatedCipherSuite}");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            Fail($"TLS handshake with {host}:{port}: {ex.Message}");
            return Done();
        }

        if (certificate is not null)
        {
            double days = (certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays;
            string names = string.Join(", ", certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()));
            string summary = $"certificate for {(names.Length > 0 ? names : certificate.Subject)}, issuer {certificate.Issuer}, expires {certificate.NotAfter:yyyy-MM-dd} ({days:0} days left)";
            bool selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
            if (days < 7) Fail(summary + ": renew now");
            else if (errors != SslPolicyErrors.None && selfSigned) Warn(summary + ": self-signed, browsers and the SDK will not trust it (Tls:Mode=Acme gets a real one)");
            else if (errors != SslPolicyErrors.None) Fail(summary + $": not trusted ({errors})");
            else if (days < 20) Warn(summary + ": renewal is due");
            else Pass(summary);
        }

        var wsUri = new UriBuilder(url) { Scheme = "wss", Path = "/ws", Query = "" }.Uri;
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(wsUri, timeout.Token);
            Pass($"WebSocket upgrade on {wsUri}");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            Fail($"WebSocket upgrade on {wsUri}: {ex.Message}");
            return Done();
        }

        if (apiKey is null)
        {
            output.WriteLine("SKIP authenticate/subscribe (pass --api-key KEY)");
            return Done();
        }

        string reply = await AskAsync(socket, $"{{\"action\": \"authenticate\", \"api_key\": \"{JsonEscape(apiKey)}\"}}", cancellationToken);
        if (!reply.Contains("\"type\": \"auth\"") || !reply.Contains("\"status\": \"success\"")) { Fail($"authenticate: {reply}"); return Done(); }
        Pass($"authenticate: {reply}");

        string[] parts = symbol.Split(':', 2);
        string exchange = parts.Length == 2 ? parts[0] : "NSE";
        string name = parts[^1];
        var started = Stopwatch.StartNew();
        reply = await AskAsync(socket, $"{{\"action\": \"subscribe\", \"symbols\": [{{\"symbol\": \"{JsonEscape(name)}\", \"exchange\": \"{JsonEscape(exchange)}\"}}], \"mode\": 1}}", cancellationToken);
        if (!reply.Contains("\"type\": \"subscribe\"") || !reply.Contains("\"status\": \"success\"")) { Fail($"subscribe {exchange}:{name}: {reply}"); return Done(); }
        Pass($"subscribe {exchange}:{name}");
        try
        {
            string tick = await ReceiveAsync(socket, TimeSpan.FromSeconds(15), cancellationToken);
            Pass($"first tick after {started.ElapsedMilliseconds} ms: {(tick.Length > 160 ? tick[..160] + "…" : tick)}");
        }
        catch (OperationCanceledException)
        {
            Warn($"no tick for {exchange}:{name} within 15 s (market closed, or no publisher on the bus)");
        }
        try { await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); } catch (WebSocketException) { }
        return Done();
    }

    private static async Task<string> AskAsync(ClientWebSocket socket, string message, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cancellationToken);
        try
        {
            return await ReceiveAsync(socket, TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return "(no reply within 10 s)";
        }
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var buffer = new byte[64 * 1024];
        int count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close) return $"(closed: {socket.CloseStatus} {socket.CloseStatusDescription})";
            count += result.Count;
            if (result.EndOfMessage) return Encoding.UTF8.GetString(buffer, 0, count);
            if (count == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        }
    }

    private static string JsonEscape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private void Pass(string line) => output.WriteLine("PASS " + line);
    private void Warn(string line) => output.WriteLine("WARN " + line);
    private void Fail(string line)
    {
        _failures++;
        output.WriteLine("FAIL " + line);
    }

    private int Done()
    {
        output.WriteLine(_failures == 0 ? "verify: OK" : $"verify: {_failures} check(s) failed");
        return _failures == 0 ? 0 : 1;
    }
}
