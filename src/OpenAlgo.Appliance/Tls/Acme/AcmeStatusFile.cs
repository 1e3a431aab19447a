using System.Text.Json;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>What the renewal loop knows beyond the stored certificate and its ARI window (<c>renewal-window.json</c>): its last error.</summary>
internal sealed record AcmeStatus(string? LastError, DateTimeOffset? LastErrorAt, long Failures);

/// <summary>
/// <c>StateDirectory/acme/status.json</c>: written by the running service after each attempt, read by the offline <c>certificates</c> command (certbot keeps the same kind of note in
/// its renewal configuration). Atomic; an unreadable file reads as "nothing known".
/// </summary>
internal static class AcmeStatusFile
{
    public const string FileName = "status.json";

    public static void Write(string acmeDirectory, AcmeStatus status)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("lastError", status.LastError);
            if (status.LastErrorAt is { } at) json.WriteString("lastErrorAt", at);
            else json.WriteNull("lastErrorAt");
            json.WriteNumber("failures", status.Failures);
            json.WriteEndObject();
        }
        AtomicFile.WriteAllBytes(Path.Combine(acmeDirectory, FileName), buffer.ToArray());
    }

    public static AcmeStatus? Read(string acmeDirectory)
    {
        string path = Path.Combine(acmeDirectory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            DateTimeOffset? Time(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var t) ? t : null;
            long failures = root.TryGetProperty("failures", out var f) && f.TryGetInt64(out long n) ? n : 0;
            return new AcmeStatus(Text("lastError"), Time("lastErrorAt"), failures);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
