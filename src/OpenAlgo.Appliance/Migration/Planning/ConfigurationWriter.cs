using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Migration.Discovery;

namespace OpenAlgo.Appliance.Migration.Planning;

/// <summary>
/// The appliance configuration a plan writes: the global listeners and ACME account, and one
/// <c>Appliance:Sites:&lt;name&gt;</c> per site (contract §Sites). Settings the admin already made in
/// the file it replaces (<c>Tls:Acme:*</c>, <c>Listen:Admin</c>, <c>LogLevel</c>, directories) are kept.
/// </summary>
internal static class ConfigurationWriter
{
    public const string CertificatesDirectory = MigrationPlan.StateDirectory + "/certificates";

    /// <summary>OpenAlgo .env names whose appliance keys are per-site behaviour worth carrying (limits, Socket.IO origins).</summary>
    private static readonly string[] CarriedPrefixes = ["Limits:", "Security:AllowedOrigins:"];

    public static string Write(MigrationPlan plan, string? existingJson)
    {
        JsonObject? existing = null;
        try
        {
            existing = existingJson is null ? null : JsonNode.Parse(existingJson, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })?["Appliance"] as JsonObject;
        }
        catch (JsonException)
        {
            plan.Notes.Add($"{MigrationPlan.ConfigurationFile} is not valid JSON: replaced entirely (the backup keeps it)");
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("Appliance");

            json.WriteStartObject("Listen");
            json.WriteString("Https", plan.ListenHttps);
            json.WriteString("Http", plan.ListenHttp);
            if (Text(existing, "Listen", "Admin") is { } admin) json.WriteString("Admin", admin);
            json.WriteEndObject();

            WriteAcme(json, plan, existing?["Tls"]?["Acme"] as JsonObject);

            json.WriteStartObject("Sites");
            foreach (var site in plan.Sites) WriteSite(json, site);
            json.WriteEndObject();

            foreach (var key in new[] { "StateDirectory", "LogsDirectory" })
            {
                if (Text(existing, key) is { } value) json.WriteString(key, value);
            }
            json.WriteString("LogLevel", Text(existing, "LogLevel") ?? "Information");
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private static void WriteAcme(Utf8JsonWriter json, MigrationPlan plan, JsonObject? existing)
    {
        bool acme = plan.Sites.Any(s => s.CertificateHandling is CertificateHandling.ImportAcme or CertificateHandling.IssueAcme);
        if (!acme && existing is null) return;
        json.WriteStartObject("Tls");
        json.WriteStartObject("Acme");
        var written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string? directory = Text(existing, "DirectoryUrl") ?? plan.AcmeDirectory;
        if (directory is not null) { json.WriteString("DirectoryUrl", directory); written.Add("DirectoryUrl"); }
        string? email = Text(existing, "Email") is { Length: > 0 } e ? e : plan.AcmeEmail;
        json.WriteString("Email", email ?? "");
        written.Add("Email");
        bool terms = plan.AcceptTerms || string.Equals(Text(existing, "AcceptTermsOfService"), "true", StringComparison.OrdinalIgnoreCase);
        json.WriteBoolean("AcceptTermsOfService", terms);
        written.Add("AcceptTermsOfService");
        if (existing is not null)
        {
            foreach (var (key, value) in existing)
            {
                if (written.Contains(key) || value is null) continue;
                json.WritePropertyName(key);
                value.WriteTo(json);
            }
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteSite(Utf8JsonWriter json, SitePlan site)
    {
        json.WriteStartObject(site.Name);

        json.WriteStartObject("Tls");
        if (site.CertificateHandling == CertificateHandling.CopyFiles)
        {
            json.WriteString("Mode", "Files");
            json.WriteStartArray("Domains");
            foreach (var domain in site.Domains) json.WriteStringValue(domain);
            json.WriteEndArray();
            json.WriteString("CertificateFile", CertificateCopy(site, "fullchain.pem"));
            json.WriteString("KeyFile", CertificateCopy(site, "privkey.pem"));
        }
        else
        {
            json.WriteString("Mode", "Acme");
            json.WriteStartArray("Domains");
            foreach (var domain in site.Domains) json.WriteStringValue(domain);
            json.WriteEndArray();
        }
        json.WriteEndObject();

        json.WriteStartObject("Listen");
        json.WriteString("Internal", site.InternalListener);
        json.WriteEndObject();

        json.WriteStartObject("Proxy");
        json.WriteString("Upstream", site.Flask.ApplianceUpstream);
        foreach (var (key, value, _) in site.Settings.Where(s => s.Key.StartsWith("Proxy:", StringComparison.Ordinal)))
        {
            json.WriteNumber(key["Proxy:".Length..], double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        }
        json.WriteEndObject();

        json.WriteStartObject("MarketData");
        json.WriteString("Source", "OpenAlgo");
        json.WriteString("OpenAlgoUpstreamUrl", site.UpstreamUrl);
        json.WriteEndObject();

        json.WriteStartObject("Auth");
        json.WriteString("Mode", "Upstream");
        json.WriteEndObject();

        var limits = site.Settings.Where(s => s.Key.StartsWith("Limits:", StringComparison.Ordinal)).ToList();
        if (limits.Count > 0)
        {
            json.WriteStartObject("Limits");
            foreach (var (key, value, _) in limits) json.WriteNumber(key["Limits:".Length..], double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        var origins = site.Settings.Where(s => s.Key.StartsWith("Security:AllowedOrigins:", StringComparison.Ordinal)).ToList();
        if (origins.Count > 0)
        {
            json.WriteStartObject("Security");
            json.WriteStartArray("AllowedOrigins");
            foreach (var origin in origins) json.WriteStringValue(origin.Value);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    public static string CertificateCopy(SitePlan site, string file) => $"{CertificatesDirectory}/{site.Name}/{file}";

    /// <summary>
    /// The per-site settings OpenAlgo's .env gives (through the appliance's own .env name mapping),
    /// where they differ from the appliance's defaults: the service does not read OpenAlgo's .env.
    /// </summary>
    public static void CarryEnvironment(SitePlan site)
    {
        var values = new System.Collections.Hashtable();
        foreach (var name in OpenAlgoEnvironmentSource.Names)
        {
            if (site.Instance.Env.Get(name) is { } value) values[name] = value;
        }
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Add(new OpenAlgoEnvironmentSource(values)).Build();
        var defaults = new ApplianceOptions();
        foreach (var (key, value) in configuration.AsEnumerable().OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (value is null || !key.StartsWith("Appliance:", StringComparison.Ordinal)) continue;
            string relative = key["Appliance:".Length..];
            if (!CarriedPrefixes.Any(p => relative.StartsWith(p, StringComparison.Ordinal))) continue;
            if (site.Settings.Any(s => s.Key == relative)) continue;
            var known = ConfigurationKeys.Find(ConfigurationKeys.Pattern(relative));
            if (known is null) continue;
            if (!relative.Contains("AllowedOrigins", StringComparison.Ordinal)
                && double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double number)
                && known.Show(defaults, defaults.DefaultSite(), 0) is { } fallback
                && double.TryParse(fallback, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double defaultNumber)
                && number == defaultNumber)
            {
                continue;
            }
            if (!relative.Contains("AllowedOrigins", StringComparison.Ordinal) && !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                site.Lines.Add(("warning", $"{site.EnvFile}: {relative} from the .env is '{value}', not a number: not carried over"));
                continue;
            }
            site.Settings.Add((relative, value, $"{site.EnvFile}: {EnvName(relative)}"));
        }
    }

    private static string EnvName(string key) => key switch
    {
        "Limits:SymbolsPerUpstreamConnection" => "MAX_SYMBOLS_PER_WEBSOCKET",
        "Limits:UpstreamConnectionsPerUser" => "MAX_WEBSOCKET_CONNECTIONS",
        "Limits:AuthGraceSeconds" => "WS_AUTH_GRACE_SECONDS",
        "Limits:PingIntervalSeconds" => "WS_PING_INTERVAL",
        "Limits:PingTimeoutSeconds" => "WS_PING_TIMEOUT",
        _ when key.StartsWith("Security:AllowedOrigins", StringComparison.Ordinal) => "SOCKETIO_ORIGINS",
        _ => key,
    };

    private static string? Text(JsonObject? node, params string[] path)
    {
        JsonNode? current = node;
        foreach (var part in path)
        {
            if (current is not JsonObject obj) return null;
            current = obj.FirstOrDefault(p => p.Key.Equals(part, StringComparison.OrdinalIgnoreCase)).Value;
        }
        return current is JsonValue value ? value.ToString() : null;
    }
}
