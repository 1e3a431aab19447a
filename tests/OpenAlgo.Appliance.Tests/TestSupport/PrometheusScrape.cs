using System.Globalization;
using System.Text.Json;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>One sample of a scrape, as Prometheus' own Python client parsed it.</summary>
internal sealed record MetricSample(string Family, string Type, string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var v) && v == value;
}

/// <summary>Scrapes <c>/metrics</c> and parses it with <c>prometheus_client.parser</c> (Debian's python3-prometheus-client) — a malformed exposition fails the test.</summary>
internal static class PrometheusScrape
{
    private static readonly string Parser = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Observability", "parse_metrics.py"));

    public static async Task<List<MetricSample>> ScrapeAsync(HttpClient http, Uri metrics)
    {
        using var response = await http.GetAsync(metrics);
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{metrics}: {(int)response.StatusCode} {text}");
        return Parse(text);
    }

    public static List<MetricSample> Parse(string exposition)
    {
        var samples = new List<MetricSample>();
        foreach (var line in Python.Run(Parser, exposition).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var labels = root.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var value = root.GetProperty("value");
            double number = value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.Parse(value.GetString()!, CultureInfo.InvariantCulture);
            samples.Add(new MetricSample(root.GetProperty("family").GetString()!, root.GetProperty("type").GetString()!, root.GetProperty("name").GetString()!, labels, number));
        }
        return samples;
    }

    /// <summary>The one sample named <paramref name="name"/> with every label given.</summary>
    public static MetricSample Single(this List<MetricSample> samples, string name, params (string Label, string Value)[] labels)
    {
        var matches = samples.Where(s => s.Name == name && labels.All(l => s.Has(l.Label, l.Value))).ToList();
        if (matches.Count != 1) throw new Xunit.Sdk.XunitException($"{matches.Count} samples {name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}}; names seen: {string.Join(" ", samples.Select(s => s.Name).Distinct().Order())}");
        return matches[0];
    }
}
