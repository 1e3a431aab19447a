using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Where a configuration value came from — the layer, and for JSON files the file and line — so
/// that <c>show-config</c> can say it and an error can point at the line to fix, as <c>nginx -t</c> does.
/// </summary>
internal sealed class ConfigurationProvenance(IConfigurationRoot configuration)
{
    private readonly Dictionary<string, byte[]?> _files = new(StringComparer.Ordinal);

    /// <summary>The provider whose value wins for <paramref name="key"/> (a full key, <c>Appliance:…</c>), or null when no layer sets it.</summary>
    public IConfigurationProvider? ProviderOf(string key)
    {
        foreach (var provider in configuration.Providers.Reverse())
        {
            if (provider.TryGet(key, out _)) return provider;
        }
        return null;
    }

    /// <summary>"built-in default", "file /etc/…/appsettings.json", "environment Appliance__*", "OpenAlgo .env name".</summary>
    public string LayerOf(string key) => ProviderOf(key) is { } provider ? Describe(provider) : "built-in default";

    /// <summary>
    /// Where to fix <paramref name="key"/>: "/etc/openalgo-appliance/appsettings.Production.json, line 7",
    /// "environment variable Appliance__Limits__MaxClients", "OpenAlgo .env name WS_PING_INTERVAL"; null
    /// for a built-in default or a key no layer sets.
    /// </summary>
    public string? Locate(string key)
    {
        switch (ProviderOf(key))
        {
            case JsonConfigurationProvider json:
                string? path = PhysicalPath(json);
                if (path is null) return null;
                int? line = LineOf(path, key);
                return line is null ? path : $"{path}, line {line}";
            case OpenAlgoEnvironmentSource.Provider env:
                return env.NameOf(key) is { } name ? $"OpenAlgo .env name {name}" : "OpenAlgo .env names";
            case PrefixedEnvironmentSource.Provider prefixed:
                return $"environment variable {prefixed.VariableOf(key)}";
            default:
                return null;
        }
    }

    public static string Describe(IConfigurationProvider provider) => provider switch
    {
        MemoryConfigurationProvider => "built-in default",
        JsonConfigurationProvider json => "file " + (PhysicalPath(json) ?? json.Source.Path),
        OpenAlgoEnvironmentSource.Provider => "OpenAlgo .env name",
        PrefixedEnvironmentSource.Provider => "environment Appliance__*",
        _ => provider.ToString() ?? "?",
    };

    /// <summary>The layers that exist, in order (optional JSON files that are absent are left out).</summary>
    public IEnumerable<string> Layers() => configuration.Providers
        .Where(p => p is not JsonConfigurationProvider json || json.Source.FileProvider?.GetFileInfo(json.Source.Path ?? "").Exists != false)
        .Select(Describe).Distinct();

    private static string? PhysicalPath(JsonConfigurationProvider json) =>
        json.Source.Path is { } path ? json.Source.FileProvider?.GetFileInfo(path).PhysicalPath ?? path : null;

    private int? LineOf(string file, string key)
    {
        if (!_files.TryGetValue(file, out byte[]? bytes))
        {
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                bytes = null;
            }
            _files[file] = bytes;
        }
        return bytes is null ? null : FindLine(bytes, key.Split(':'));
    }

    /// <summary>
    /// The 1-based line of the property (or array element) at <paramref name="target"/> in a JSON
    /// document, compared case-insensitively as configuration keys are; null when absent or the
    /// document does not parse.
    /// </summary>
    public static int? FindLine(ReadOnlySpan<byte> json, string[] target)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var path = new List<string>();
        var frames = new Stack<(bool IsArray, int NextIndex, bool AddedSegment)>();
        string? pendingName = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingName = reader.GetString();
                        if (Matches(path, pendingName, target)) return Line(json, (int)reader.TokenStartIndex);
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        string? segment = NextSegment(frames, pendingName);
                        if (segment is not null)
                        {
                            if (Matches(path, segment, target)) return Line(json, (int)reader.TokenStartIndex);
                            path.Add(segment);
                        }
                        frames.Push((reader.TokenType == JsonTokenType.StartArray, 0, segment is not null));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        if (frames.Pop().AddedSegment) path.RemoveAt(path.Count - 1);
                        break;
                    default:
                        if (frames.Count > 0 && frames.Peek().IsArray && NextSegment(frames, null) is { } index && Matches(path, index, target))
                        {
                            return Line(json, (int)reader.TokenStartIndex);
                        }
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private static string? NextSegment(Stack<(bool IsArray, int NextIndex, bool AddedSegment)> frames, string? pendingName)
    {
        if (frames.Count == 0) return null;
        var top = frames.Pop();
        string? segment = pendingName;
        if (top.IsArray)
        {
            segment = top.NextIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
            top.NextIndex++;
        }
        frames.Push(top);
        return segment;
    }

    private static bool Matches(List<string> path, string? last, string[] target)
    {
        if (last is null || path.Count + 1 != target.Length) return false;
        for (int i = 0; i < path.Count; i++)
        {
            if (!path[i].Equals(target[i], StringComparison.OrdinalIgnoreCase)) return false;
        }
        return last.Equals(target[^1], StringComparison.OrdinalIgnoreCase);
    }

    private static int Line(ReadOnlySpan<byte> json, int offset) => json[..offset].Count((byte)'\n') + 1;
}
