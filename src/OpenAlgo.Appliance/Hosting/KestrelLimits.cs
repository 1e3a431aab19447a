using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// <c>Http:*</c> onto Kestrel's limits, for every listener: a slowloris client (headers a byte at a
/// time, a body trickling in, a TLS handshake never finished, an idle keep-alive) is cut at these
/// bounds, and header floods get 431 (docs/reliability.md, "slowloris"). Upgraded WebSockets are
/// not subject to them (MarketDataEndpoint lifts the body rate; the hub keeps its own timers).
/// </summary>
internal static class KestrelLimits
{
    /// <summary>Kestrel's default grace before the body rate counts (the body's first bytes may be slow to come).</summary>
    public static readonly TimeSpan BodyRateGrace = TimeSpan.FromSeconds(5);

    public static void Apply(KestrelServerLimits limits, HttpSection http)
    {
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(http.RequestHeadersTimeoutSeconds);
        limits.MinRequestBodyDataRate = http.MinRequestBodyBytesPerSecond > 0 ? new MinDataRate(http.MinRequestBodyBytesPerSecond, BodyRateGrace) : null;
        limits.MaxRequestHeaderCount = http.MaxRequestHeaderCount;
        limits.MaxRequestHeadersTotalSize = http.MaxRequestHeadersTotalBytes;
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(http.KeepAliveTimeoutSeconds);
    }
}
