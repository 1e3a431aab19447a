using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OpenAlgo.Appliance.Bench;

/// <summary>One metric of one run. Header is the short column name used in summary tables.</summary>
public sealed record Metric(string Key, double? Value, string Header, string Format = "0.##", bool InTable = true);

/// <summary>Result of one scenario run: printed as text, appended as one JSON line to --json.</summary>
public sealed class RunResult(string scenario, string label)
{
    public string Scenario { get; } = scenario;

    public string Label { get; } = label;

    public List<Metric> Metrics { get; } = [];

    public List<string> Notes { get; } = [];

    public bool Ok { get; set; } = true;

    public RunResult Add(string key, double? value, string header, string format = "0.##", bool inTable = true)
    {
        if (value is double d && (double.IsNaN(d) || double.IsInfinity(d)))
        {
            value = null;
        }
        Metrics.Add(new Metric(key, value, header, format, inTable));
        return this;
    }

    public void Print(TextWriter w)
    {
        w.WriteLine();
        w.WriteLine($"== {Scenario} [{Label}] {(Ok ? "" : "(FAILED)")}");
        int width = Metrics.Count == 0 ? 0 : Metrics.Max(m => m.Key.Length);
        foreach (var m in Metrics)
        {
            string v = m.Value is double d ? d.ToString(m.Format, CultureInfo.InvariantCulture) : "n/a";
            w.WriteLine($"  {m.Key.PadRight(width)}  {v}");
        }
        foreach (string n in Notes)
        {
            w.WriteLine($"  note: {n}");
        }
    }

    public void AppendJsonLine(string path)
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms))
        {
            j.WriteStartObject();
            j.WriteString("scenario", Scenario);
            j.WriteString("label", Label);
            j.WriteBoolean("ok", Ok);
            j.WriteString("utc", DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture));
            j.WriteStartArray("metrics");
            foreach (var m in Metrics)
            {
                j.WriteStartObject();
                j.WriteString("key", m.Key);
                if (m.Value is double d)
                {
                    j.WriteNumber("value", d);
                }
                else
                {
                    j.WriteNull("value");
                }
                j.WriteString("header", m.Header);
                j.WriteString("format", m.Format);
                j.WriteBoolean("table", m.InTable);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartArray("notes");
            foreach (string n in Notes)
            {
                j.WriteStringValue(n);
            }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }
        File.AppendAllText(path, Encoding.UTF8.GetString(ms.ToArray()) + "\n");
    }

    public static List<RunResult> ReadJsonLines(string path)
    {
        var list = new List<RunResult>();
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var r = new RunResult(root.GetProperty("scenario").GetString()!, root.GetProperty("label").GetString()!)
            {
                Ok = root.GetProperty("ok").GetBoolean(),
            };
            foreach (var m in root.GetProperty("metrics").EnumerateArray())
            {
                var v = m.GetProperty("value");
                r.Metrics.Add(new Metric(
                    m.GetProperty("key").GetString()!,
                    v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null,
                    m.GetProperty("header").GetString()!,
                    m.GetProperty("format").GetString()!,
                    m.GetProperty("table").GetBoolean()));
            }
            foreach (var n in root.GetProperty("notes").EnumerateArray())
            {
                r.Notes.Add(n.GetString()!);
            }
            list.Add(r);
        }
        return list;
    }
}

/// <summary>Median-of-runs markdown tables, one table per scenario kind, one row per label.</summary>
public static class Summary
{
    public static string Markdown(IReadOnlyList<RunResult> results)
    {
        var sb = new StringBuilder();
        foreach (var byScenario in results.GroupBy(r => r.Scenario))
        {
            // Columns: union of table metrics in first-seen order.
            var columns = new List<Metric>();
            foreach (var r in byScenario)
            {
                foreach (var m in r.Metrics.Where(m => m.InTable))
                {
                    if (!columns.Any(c => c.Key == m.Key))
                    {
                        columns.Add(m);
                    }
                }
            }
            sb.AppendLine(CultureInfo.InvariantCulture, $"### {byScenario.Key} (median of runs)");
            sb.AppendLine();
            sb.Append("| config | runs (ok) |");
            foreach (var c in columns)
            {
                sb.Append(' ').Append(c.Header).Append(" |");
            }
            sb.AppendLine();
            sb.Append("|---|---|");
            foreach (var _ in columns)
            {
                sb.Append("---:|");
            }
            sb.AppendLine();
            foreach (var byLabel in byScenario.GroupBy(r => r.Label))
            {
                var runs = byLabel.ToList();
                var ok = runs.Where(r => r.Ok).ToList();
                var source = ok.Count > 0 ? ok : runs;
                sb.Append(CultureInfo.InvariantCulture, $"| {byLabel.Key} | {runs.Count} ({ok.Count}) |");
                foreach (var c in columns)
                {
                    var values = source
                        .Select(r => r.Metrics.FirstOrDefault(m => m.Key == c.Key)?.Value)
                        .Where(v => v is not null)
                        .Select(v => v!.Value)
                        .ToList();
                    string cell = values.Count == 0 ? "n/a" : Median(values).ToString(c.Format, CultureInfo.InvariantCulture);
                    sb.Append(' ').Append(cell).Append(" |");
                }
                sb.AppendLine();
            }
            sb.AppendLine();
            var notes = byScenario.SelectMany(r => r.Notes.Select(n => $"{r.Label}: {n}")).Distinct().ToList();
            foreach (string n in notes)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {n}");
            }
            if (notes.Count > 0)
            {
                sb.AppendLine();
            }
        }
        return sb.ToString();
    }

    public static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }
}
