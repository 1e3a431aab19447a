using System.Net;

namespace OpenAlgo.Appliance.Configuration;

internal static partial class ApplianceOptionsValidator
{
    /// <summary>Largest <c>Logging:MessageTrace:BytesPerMinute</c>: 64 MiB a minute is already 90 GB a day.</summary>
    private const long MaxTraceBytesPerMinute = 64L << 20;

    /// <summary><c>Logging:MessageTrace:*</c>, checked whether or not the trace is on, so turning it on by SIGHUP cannot fail.</summary>
    private static void ValidateMessageTrace(MessageTraceSection trace, IReadOnlyList<SiteOptions> sites, List<string> errors)
    {
        const string prefix = "Logging:MessageTrace:";
        void Error(string key, string problem, string fix) => errors.Add($"Appliance:{prefix}{key}: {problem}. Fix: {fix}.");

        string known = string.Join(", ", sites.Select(s => s.Name));
        for (int i = 0; i < trace.Sites.Count; i++)
        {
            if (!sites.Any(s => s.Name.Equals(trace.Sites[i], StringComparison.OrdinalIgnoreCase)))
            {
                Error($"Sites:{i}", $"'{trace.Sites[i]}' is not a site", $"use the name of a configured site ({known}), or leave Sites empty to trace every site");
            }
        }
        for (int i = 0; i < trace.Users.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(trace.Users[i])) Error($"Users:{i}", "is empty", "write a user id as OpenAlgo names it (the authenticate reply's user_id), or remove the entry");
        }
        for (int i = 0; i < trace.Addresses.Count; i++)
        {
            if (!TryParseTraceAddress(trace.Addresses[i], out _))
            {
                Error($"Addresses:{i}", $"'{trace.Addresses[i]}' is not an IP address or CIDR range", "write an address such as 203.0.113.7 or 2001:db8::1, or a range such as 10.0.0.0/8");
            }
        }
        if (trace.TickSampleEvery < 0)
        {
            Error("TickSampleEvery", $"{trace.TickSampleEvery} is negative", "use 1 to trace every tick, N to trace one in N per symbol (default 100), or 0 to trace no ticks");
        }
        if (trace.BytesPerMinute < 1024 || trace.BytesPerMinute > MaxTraceBytesPerMinute)
        {
            Error("BytesPerMinute", $"{trace.BytesPerMinute} is out of range", $"use a number of bytes from 1024 to {MaxTraceBytesPerMinute} (default 1048576)");
        }
    }

    /// <summary>An address (<c>203.0.113.7</c>) or a CIDR range (<c>10.0.0.0/8</c>) as a network.</summary>
    public static bool TryParseTraceAddress(string text, out IPNetwork network)
    {
        text = text.Trim();
        if (IPAddress.TryParse(text, out var address) && !text.Contains('/', StringComparison.Ordinal))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return IPNetwork.TryParse(text, out network);
    }
}
