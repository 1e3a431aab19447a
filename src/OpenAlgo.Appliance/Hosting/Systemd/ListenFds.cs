using System.Globalization;

namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>
/// sd_listen_fds(3) with names: <c>LISTEN_PID</c> must be this process, <c>LISTEN_FDS</c> sockets
/// start at fd 3, <c>LISTEN_FDNAMES</c> (from <c>FileDescriptorName=</c>) says which is which.
/// Kestrel's own UseSystemd() treats every fd alike, but the appliance's three listeners differ.
/// </summary>
internal static class ListenFds
{
    public const int First = 3;

    /// <summary>
    /// Listener name → fd, for the names https, http, internal (the <c>default</c> site's internal
    /// listener) and internal-&lt;site&gt; (another site's); empty outside socket activation.
    /// </summary>
    public static Dictionary<string, ulong> Parse(Func<string, string?> environment, int processId)
    {
        var result = new Dictionary<string, ulong>(StringComparer.OrdinalIgnoreCase);
        if (environment("LISTEN_PID") != processId.ToString(CultureInfo.InvariantCulture)) return result;
        if (!int.TryParse(environment("LISTEN_FDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count <= 0) return result;
        string[] names = (environment("LISTEN_FDNAMES") ?? "").Split(':');
        for (int i = 0; i < count; i++)
        {
            string name = i < names.Length ? names[i] : "";
            if (name is "https" or "http" or "internal" || name.StartsWith("internal-", StringComparison.Ordinal)) result[name] = (ulong)(First + i);
        }
        return result;
    }

    /// <summary>Children (none today) must not think the sockets are theirs.</summary>
    public static void ClearEnvironment()
    {
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
    }
}
