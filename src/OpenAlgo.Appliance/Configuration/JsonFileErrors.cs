using System.Text.Json;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Turns "Failed to load configuration from file '…'" into what an operator needs: which file,
/// which line and column, and what the parser saw there. The configuration provider keeps the
/// position only inside an inner exception of a file it does not name again, so the layered files
/// are parsed once more, with the provider's own reader options, to find the first that fails.
/// </summary>
internal static class JsonFileErrors
{
    // The options Microsoft.Extensions.Configuration.Json reads with (JsonConfigurationFileParser).
    private static readonly JsonDocumentOptions ProviderOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static string Describe(InvalidDataException failure, IEnumerable<string> files)
    {
        foreach (string file in files)
        {
            if (!File.Exists(file)) continue;
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(file), ProviderOptions);
            }
            catch (JsonException ex) when (ex.LineNumber is { } line && ex.BytePositionInLine is { } column)
            {
                return $"{file}, line {line + 1}, column {column + 1}: {Reason(ex.Message)}. Fix: correct the JSON syntax there (usually a missing comma, quote or closing brace just before that point).";
            }
            catch (IOException)
            {
                // Unreadable now: the provider's own message below says which file.
            }
        }
        // Valid JSON the provider still refused (a key given twice, …): its inner message says why.
        string detail = failure.InnerException is { } inner ? " " + inner.Message : "";
        return $"{failure.Message}{detail} Fix: correct the file (each key once per object, valid JSON).";
    }

    /// <summary>System.Text.Json's message without the position and path it appends (given in our own words).</summary>
    private static string Reason(string message)
    {
        foreach (string tail in new[] { " LineNumber:", " Path:" })
        {
            int at = message.IndexOf(tail, StringComparison.Ordinal);
            if (at >= 0) message = message[..at];
        }
        return message.Trim().TrimEnd('.', ' ', '|');
    }
}
