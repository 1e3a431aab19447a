namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>OpenAlgo's <c>mode_utils.normalize_mode</c>: ints 1–3 or case-insensitive LTP/Quote/Depth; bools, floats and numeric strings are refused.</summary>
internal static class ModeParser
{
    /// <summary>Returns 1, 2 or 3, or null with OpenAlgo's exact error text.</summary>
    public static int? Parse(PyValue value, out string? error)
    {
        error = null;
        switch (value)
        {
            case PyBool b:
                error = $"Mode must be int or str, got bool ({(b.Value ? "True" : "False")})";
                return null;
            case PyInt i:
                if (i.IsSmall && i.Value is >= 1 and <= 3) return (int)i.Value;
                error = $"Invalid mode {i.Canonical}; expected 1 (LTP), 2 (Quote), or 3 (Depth)";
                return null;
            case PyStr s:
                switch (s.Value.Trim().ToUpperInvariant())
                {
                    case "LTP": return 1;
                    case "QUOTE": return 2;
                    case "DEPTH": return 3;
                }
                error = $"Invalid mode {s.Repr()}; expected 'LTP', 'Quote', or 'Depth' (case-insensitive)";
                return null;
            default:
                error = $"Mode must be int or str, got {value.TypeName}";
                return null;
        }
    }
}
