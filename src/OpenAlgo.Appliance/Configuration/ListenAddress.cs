using System.Globalization;
using System.Net;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>Parses listener addresses written as <c>host:port</c> (<c>0.0.0.0:443</c>, <c>[::]:443</c>, <c>localhost:8443</c>).</summary>
internal static class ListenAddress
{
    public static bool TryParse(string? text, out IPEndPoint endPoint)
    {
        endPoint = null!;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            if (!int.TryParse(text.AsSpan("localhost:".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535) return false;
            endPoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }
        if (text.StartsWith("*:", StringComparison.Ordinal)) text = "0.0.0.0" + text[1..];
        // IPEndPoint.TryParse accepts "1.2.3.4" without a port (port 0); a listener needs an explicit port.
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1 || text[^1] == ']') return false;
        return IPEndPoint.TryParse(text, out endPoint!);
    }
}
