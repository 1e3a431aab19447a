using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>status</c>: the running service's picture as text, like <c>systemctl status</c> but about the
/// appliance — read from its admin listener (<c>/status.json</c>, the same document the status page
/// shows). Exit 0 when healthy, 1 when <c>/healthz</c> would answer 503, 3 when there is no running
/// service to ask (as <c>systemctl status</c> says "not running").
/// </summary>
internal sealed class StatusCommand(TextWriter output, TextWriter error)
{
    public const int Unhealthy = 1;
    public const int NotRunning = 3;

    public async Task<int> RunAsync(string? configFile, string? adminAddress, CancellationToken cancellationToken)
    {
        string address;
        if (adminAddress is not null)
        {
            address = adminAddress;
        }
        else
        {
            try
            {
                address = ApplianceApp.Load(demo: false, configFile).Listen.Admin?.Trim() ?? "";
            }
            catch (ConfigurationErrorsException ex)
            {
                await error.WriteLineAsync(ex.Message);
                return ApplianceApp.ConfigurationError;
            }
        }
        if (address.Length == 0)
        {
            await error.WriteLineAsync("The admin listener is off (Appliance:Listen:Admin is empty), so there is nothing to ask. Fix: set Listen:Admin (127.0.0.1:9765 by default) and restart the service; meanwhile: systemctl status openalgo-appliance.");
            return NotRunning;
        }

        using var http = CreateClient(address, out var baseUri);
        byte[] body;
        try
        {
            body = await http.GetByteArrayAsync(new Uri(baseUri, "status.json"), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
        {
            await error.WriteLineAsync($"openalgo-appliance is not running, or its admin listener does not answer on {address} ({ex.Message}). Check: systemctl status openalgo-appliance; journalctl -u openalgo-appliance.");
            return NotRunning;
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        bool healthy = root.GetProperty("healthy").GetBoolean();
        await output.WriteAsync(Render(root));
        return healthy ? 0 : Unhealthy;
    }

    /// <summary>A client for <c>host:port</c> or <c>unix:/path</c>.</summary>
    internal static HttpClient CreateClient(string address, out Uri baseUri)
    {
        var handler = new SocketsHttpHandler();
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = address[5..];
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            baseUri = new Uri("http://localhost/");
        }
        else
        {
            // 0.0.0.0 or [::] (Listen:AdminAllowRemote) is reached at loopback from this machine.
            string target = address.Replace("0.0.0.0:", "127.0.0.1:", StringComparison.Ordinal).Replace("[::]:", "[::1]:", StringComparison.Ordinal);
            if (target.StartsWith("*:", StringComparison.Ordinal)) target = "127.0.0.1" + target[1..];
            baseUri = new Uri($"http://{target}/");
        }
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }

    internal static string Render(JsonElement root)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        bool healthy = root.GetProperty("healthy").GetBoolean();
        var sites = root.GetProperty("sites").EnumerateArray().ToList();
        int problems = root.GetProperty("problems").GetArrayLength() + sites.Sum(s => s.GetProperty("problems").GetArrayLength());
        text.Append(inv, $"{(healthy ? "●" : "×")} openalgo-appliance {root.GetProperty("version").GetString()} — {(healthy ? "healthy" : $"UNHEALTHY ({problems} {(problems == 1 ? "problem" : "problems")})")}, up {Uptime(root.GetProperty("uptimeSeconds").GetDouble())}\n");
        var listeners = root.GetProperty("listeners");
        text.Append("  Listeners:     ").Append(string.Join(", ", listeners.EnumerateObject().Select(l => $"{l.Name} {l.Value.GetString()}"))).Append('\n');
        foreach (var problem in root.GetProperty("problems").EnumerateArray()) text.Append("  Problem:       ").Append(problem.GetString()).Append('\n');

        foreach (var site in sites)
        {
            text.Append('\n');
            bool siteHealthy = site.GetProperty("healthy").GetBoolean();
            text.Append(inv, $"site {site.GetProperty("name").GetString()}: {(siteHealthy ? "healthy" : "UNHEALTHY")}\n");
            foreach (var problem in site.GetProperty("problems").EnumerateArray()) text.Append("  Problem:       ").Append(problem.GetString()).Append('\n');
            // (A service older than this command may not say: then the line is left out.)
            if (site.TryGetProperty("domains", out var domains) && site.TryGetProperty("internal", out var internalListener))
            {
                string names = string.Join(", ", domains.EnumerateArray().Select(d => d.GetString()));
                text.Append(inv, $"  Serves:        {(names.Length > 0 ? names : "any name (no Tls:Domains)")}; internal listener {internalListener.GetString()}\n");
            }

            if (site.GetProperty("certificate") is { ValueKind: JsonValueKind.Object } c)
            {
                string names = string.Join(", ", c.GetProperty("names").EnumerateArray().Select(n => n.GetString()));
                text.Append(inv, $"  Certificate:   {names} ({c.GetProperty("issuer").GetString()}), {c.GetProperty("daysLeft").GetDouble():0.0} days left, expires {Time(c.GetProperty("notAfter"))}\n");
                text.Append(inv, $"                {c.GetProperty("origin").GetString()}");
                if (c.GetProperty("renewAt").ValueKind == JsonValueKind.String) text.Append(inv, $"; renews {Time(c.GetProperty("renewAt"))} ({c.GetProperty("renewReason").GetString()})");
                text.Append('\n');
                if (c.GetProperty("lastError").GetString() is { } lastError) text.Append(inv, $"                last ACME error at {Time(c.GetProperty("lastErrorAt"))}: {lastError}\n");
            }
            else
            {
                text.Append("  Certificate:   none loaded\n");
            }

            var source = site.GetProperty("source");
            text.Append(inv, $"  Source:        {source.GetProperty("kind").GetString()} — {(source.GetProperty("up").GetBoolean() ? "up" : "DOWN")}: {source.GetProperty("detail").GetString()}\n");

            var clients = site.GetProperty("clients");
            var subscriptions = site.GetProperty("subscriptions");
            long wss = clients.GetProperty("wss").GetInt64(), @internal = clients.GetProperty("internal").GetInt64();
            text.Append(inv, $"  Clients:       {wss + @internal} ({wss} wss, {@internal} internal), {clients.GetProperty("users").GetInt64()} users; subscribed symbols {subscriptions.GetProperty("ltp").GetInt64()} ltp, {subscriptions.GetProperty("quote").GetInt64()} quote, {subscriptions.GetProperty("depth").GetInt64()} depth\n");
            foreach (var user in site.GetProperty("users").EnumerateArray())
            {
                string name = user.GetProperty("user").GetString() is { Length: > 0 } u ? u : "(not authenticated yet)";
                text.Append(inv, $"                {name}: {user.GetProperty("wss").GetInt64()} wss, {user.GetProperty("internal").GetInt64()} internal\n");
            }
            var rates = site.GetProperty("rates");
            text.Append(inv, $"  Rates:         {rates.GetProperty("ticksPerSecond").GetDouble():0.#} ticks/s in, {rates.GetProperty("deliveriesPerSecond").GetDouble():0.#} deliveries/s out, {rates.GetProperty("conflatedPerSecond").GetDouble():0.#} conflated/s; tick→frame p50 {Duration(rates.GetProperty("p50Seconds"))}, p99 {Duration(rates.GetProperty("p99Seconds"))}\n");
            var totals = site.GetProperty("totals");
            text.Append(inv, $"  Since start:   {totals.GetProperty("ticksReceived").GetInt64()} ticks in, {totals.GetProperty("deliveries").GetInt64()} deliveries, {totals.GetProperty("conflated").GetInt64()} conflated, {totals.GetProperty("slowClientDisconnects").GetInt64()} slow clients closed, {totals.GetProperty("authFailures").GetInt64()} refused API keys\n");
        }
        return text.ToString();
    }

    private static string Time(JsonElement value) => value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var t)
        ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "–";

    private static string Duration(JsonElement seconds)
    {
        if (seconds.ValueKind != JsonValueKind.Number) return "–";
        double s = seconds.GetDouble();
        return s < 1e-3 ? (s * 1e6).ToString("0", CultureInfo.InvariantCulture) + " µs" : s < 1 ? (s * 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " ms" : s.ToString("0.0", CultureInfo.InvariantCulture) + " s";
    }

    private static string Uptime(double seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h" : t.TotalHours >= 1 ? $"{t.Hours}h {t.Minutes}m" : $"{t.Minutes}m {t.Seconds}s";
    }
}
