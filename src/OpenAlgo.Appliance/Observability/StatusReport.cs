using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Hosting.Systemd;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// The picture every human view shows — the status page, <c>/status.json</c> (what <c>status</c>
/// prints), <c>/healthz</c> and systemd's STATUS: per site the meters' values and rates (from
/// <see cref="TelemetrySampler"/>), the certificate, the source, the clients; and what is unhealthy.
/// </summary>
internal sealed class StatusReport(TelemetrySampler sampler, MeterReader reader, ApplianceMeters meters, ListenerRegistry listeners, ApplianceOptions options, TimeProvider time, HealthMonitor? watchdog = null)
{
    /// <summary>Under this many days left a certificate that should have been renewed (ACME, files) makes /healthz fail.</summary>
    public const double CertificateCriticalDays = 7;

    private static readonly DateTimeOffset Started = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>Problems of the whole process (listeners, watchdog) and of each site; empty when healthy.</summary>
    public (List<string> Global, Dictionary<string, List<string>> Sites) Problems(MetricsSnapshot current)
    {
        var global = new List<string>();
        foreach (var (kind, key, address, site) in Configured())
        {
            if (!listeners.IsBound(kind, site)) global.Add($"listener {key} ({address}) is not bound");
        }
        if (watchdog?.LastStalled is { } stalled) global.Add($"no progress in {stalled} (the systemd watchdog is not being petted)");

        var sites = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        foreach (var site in meters.Sites)
        {
            var problems = sites[site.Name] = [];
            var metrics = current.Sites.GetValueOrDefault(site.Name);
            var (up, detail) = site.SourceHealth();
            if (!up || metrics is { SourceUp: false }) problems.Add($"source down: {detail}");
            var certificate = site.Certificate();
            if (certificate is null) problems.Add("no certificate loaded");
            else if (certificate.NotAfter <= now) problems.Add($"certificate expired on {certificate.NotAfter:yyyy-MM-dd HH:mm} UTC");
            else if (certificate.StandIn) problems.Add($"serving a temporary self-signed certificate: ACME has not issued one yet{(certificate.LastError is { } e ? $" (last error: {e})" : "")}");
            else if (certificate.Mode != TlsMode.SelfSigned && certificate.DaysLeft(now) < CertificateCriticalDays)
            {
                problems.Add($"certificate expires in {certificate.DaysLeft(now):0.0} days ({certificate.NotAfter:yyyy-MM-dd}){(certificate.LastError is { } e ? $"; last renewal error: {e}" : "")}");
            }
        }
        return (global, sites);
    }

    /// <summary>/healthz: null when healthy, else one line per problem ("site NAME: …" for a site's).</summary>
    public List<string> Unhealthy()
    {
        var (global, sites) = Problems(reader.Collect());
        var lines = new List<string>(global);
        foreach (var (site, problems) in sites)
        {
            foreach (var problem in problems) lines.Add(meters.Sites.Count > 1 || site != SiteOptions.DefaultName ? $"site {site}: {problem}" : problem);
        }
        return lines;
    }

    /// <summary>One line for systemd's STATUS: clients and rates (per site when there are several).</summary>
    public string SummaryLine()
    {
        // Values as of now, rates over the last second.
        var current = reader.Collect();
        var sample = sampler.Latest;
        var parts = new List<string>();
        foreach (var site in meters.Sites)
        {
            var metrics = current.Sites.GetValueOrDefault(site.Name) ?? new SiteMetrics();
            var rates = sample.RatesOf(site.Name);
            string text = $"serving {metrics.Clients} market-data clients, {Rate(rates.TicksPerSecond)} ticks/s in, {Rate(rates.DeliveriesPerSecond)} deliveries/s out ({metrics.TicksReceived} ticks in, {metrics.Deliveries} frames out)";
            parts.Add(meters.Sites.Count > 1 || site.Name != SiteOptions.DefaultName ? $"site {site.Name}: {text}" : text);
        }
        return string.Join("; ", parts);
    }

    private static string Rate(double perSecond) => perSecond.ToString(perSecond < 10 ? "0.#" : "0", CultureInfo.InvariantCulture);

    private IEnumerable<(ListenerKind Kind, string Key, string Address, string? Site)> Configured()
    {
        yield return (ListenerKind.Https, "Listen:Https", options.Listen.Https, null);
        if (!string.IsNullOrWhiteSpace(options.Listen.Http)) yield return (ListenerKind.Http, "Listen:Http", options.Listen.Http, null);
        // Each running site's own internal listener, as the site runs — also a site a reload added
        // (the options of the start know nothing of it). A site being rebuilt has none for a moment.
        foreach (var site in meters.Sites)
        {
            if (!string.IsNullOrWhiteSpace(site.InternalAddress))
            {
                yield return (ListenerKind.Internal, $"{site.KeyPrefix}Listen:Internal", site.InternalAddress, site.Name);
            }
        }
        if (!string.IsNullOrWhiteSpace(options.Listen.Admin)) yield return (ListenerKind.Admin, "Listen:Admin", options.Listen.Admin, null);
    }

    /// <summary>The status document (<c>/status.json</c>, the page's events): <paramref name="history"/> adds the chart points.</summary>
    public byte[] Json(bool history)
    {
        var current = reader.Collect();
        var sample = sampler.Latest;
        var (global, siteProblems) = Problems(current);
        var now = time.GetUtcNow();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("version", VersionInfo.Version);
            json.WriteString("time", now);
            json.WriteNumber("uptimeSeconds", Math.Round((now - Started).TotalSeconds));
            bool healthy = global.Count == 0 && siteProblems.Values.All(p => p.Count == 0);
            json.WriteBoolean("healthy", healthy);
            WriteStrings(json, "problems", global);
            json.WriteStartObject("listeners");
            foreach (var kind in Enum.GetValues<ListenerKind>())
            {
                // Several sites: each has its own internal listener ("alpha 127.0.0.1:8765, beta 127.0.0.1:8767").
                string described = kind == ListenerKind.Internal && (meters.Sites.Count > 1 || meters.Sites.Any(s => s.Name != SiteOptions.DefaultName))
                    ? string.Join(", ", meters.Sites.Select(s => $"{s.Name} {listeners.Describe(kind, s.Name)}"))
                    : listeners.Describe(kind);
                json.WriteString(kind.ToString().ToLowerInvariant(), described);
            }
            json.WriteEndObject();

            json.WriteStartArray("sites");
            var points = history ? sampler.History() : [];
            foreach (var site in meters.Sites)
            {
                var metrics = current.Sites.GetValueOrDefault(site.Name) ?? new SiteMetrics();
                var rates = sample.RatesOf(site.Name);
                json.WriteStartObject();
                json.WriteString("name", site.Name);
                WriteStrings(json, "domains", site.Domains);
                json.WriteString("internal", listeners.Describe(ListenerKind.Internal, site.Name));
                var problems = siteProblems.GetValueOrDefault(site.Name) ?? [];
                json.WriteBoolean("healthy", problems.Count == 0);
                WriteStrings(json, "problems", problems);

                json.WriteStartObject("clients");
                json.WriteNumber("wss", metrics.ClientsWss);
                json.WriteNumber("internal", metrics.ClientsInternal);
                json.WriteNumber("users", metrics.Users);
                json.WriteEndObject();
                json.WriteStartArray("users");
                foreach (var (user, (wss, @internal)) in site.ClientsByUser())
                {
                    json.WriteStartObject();
                    json.WriteString("user", user);
                    json.WriteNumber("wss", wss);
                    json.WriteNumber("internal", @internal);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartObject("subscriptions");
                json.WriteNumber("ltp", metrics.SubscriptionsLtp);
                json.WriteNumber("quote", metrics.SubscriptionsQuote);
                json.WriteNumber("depth", metrics.SubscriptionsDepth);
                json.WriteEndObject();
                json.WriteStartObject("totals");
                json.WriteNumber("ticksReceived", metrics.TicksReceived);
                json.WriteNumber("deliveries", metrics.Deliveries);
                json.WriteNumber("conflated", metrics.Conflated);
                json.WriteNumber("slowClientDisconnects", metrics.SlowClientDisconnects);
                json.WriteNumber("authFailures", metrics.AuthFailures);
                json.WriteEndObject();
                json.WriteStartObject("rates");
                WriteRates(json, rates);
                json.WriteEndObject();

                var (up, detail) = site.SourceHealth();
                json.WriteStartObject("source");
                json.WriteString("kind", site.Source.Kind.ToString());
                json.WriteString("address", site.Source.Address);
                json.WriteBoolean("up", up);
                json.WriteString("detail", detail);
                if (site.Source.Sessions is not null)
                {
                    json.WriteNumber("sessionsConnected", metrics.UpstreamConnected);
                    json.WriteNumber("sessionsDisconnected", metrics.UpstreamDisconnected);
                }
                json.WriteEndObject();

                if (site.Certificate() is { } certificate) WriteCertificate(json, certificate, now);
                else json.WriteNull("certificate");

                if (history)
                {
                    json.WriteStartArray("history");
                    foreach (var point in points)
                    {
                        json.WriteStartObject();
                        json.WriteNumber("t", point.Metrics.At.ToUnixTimeMilliseconds());
                        WriteRates(json, point.RatesOf(site.Name));
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteRates(Utf8JsonWriter json, SiteRates rates)
    {
        json.WriteNumber("ticksPerSecond", Math.Round(rates.TicksPerSecond, 1));
        json.WriteNumber("deliveriesPerSecond", Math.Round(rates.DeliveriesPerSecond, 1));
        json.WriteNumber("conflatedPerSecond", Math.Round(rates.ConflatedPerSecond, 1));
        if (rates.P50Seconds is { } p50) json.WriteNumber("p50Seconds", p50);
        else json.WriteNull("p50Seconds");
        if (rates.P99Seconds is { } p99) json.WriteNumber("p99Seconds", p99);
        else json.WriteNull("p99Seconds");
    }

    internal static void WriteCertificate(Utf8JsonWriter json, CertificateSummary certificate, DateTimeOffset now)
    {
        json.WriteStartObject("certificate");
        json.WriteString("mode", certificate.Mode.ToString());
        json.WriteString("subject", certificate.Subject);
        WriteStrings(json, "names", certificate.Names);
        json.WriteString("issuer", certificate.Issuer);
        json.WriteString("serial", certificate.Serial);
        json.WriteString("notBefore", certificate.NotBefore);
        json.WriteString("notAfter", certificate.NotAfter);
        json.WriteNumber("daysLeft", Math.Round(certificate.DaysLeft(now), 1));
        json.WriteString("origin", certificate.Origin);
        json.WriteBoolean("standIn", certificate.StandIn);
        if (certificate.RenewAt is { } at) json.WriteString("renewAt", at);
        else json.WriteNull("renewAt");
        if (certificate.RenewReason is { } reason) json.WriteString("renewReason", RenewalPolicy.Describe(reason));
        else json.WriteString("renewReason", certificate.Mode == TlsMode.Files ? RenewalPolicy.Describe(RenewalReason.FileChange) : null);
        json.WriteString("lastError", certificate.LastError);
        if (certificate.LastErrorAt is { } errorAt) json.WriteString("lastErrorAt", errorAt);
        else json.WriteNull("lastErrorAt");
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
