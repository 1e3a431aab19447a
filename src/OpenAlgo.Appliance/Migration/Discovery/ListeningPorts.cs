using System.Globalization;

namespace OpenAlgo.Appliance.Migration.Discovery;

/// <summary>
/// The TCP ports something listens on, from <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c> (state
/// <c>0A</c>) under the root: the live machine's, or the ones a rehearsal tree lists (none when it has no <c>proc/</c>).
/// </summary>
internal static class ListeningPorts
{
    public static HashSet<int> Read(SystemRoot root)
    {
        var ports = new HashSet<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            string text;
            try
            {
                if (!root.FileExists(table)) continue;
                text = root.ReadAllText(table);
            }
            catch (IOException)
            {
                continue;
            }
            foreach (var line in text.Split('\n').Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || fields[3] != "0A") continue;
                int colon = fields[1].LastIndexOf(':');
                if (colon > 0 && int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int port))
                {
                    ports.Add(port);
                }
            }
        }
        return ports;
    }
}
