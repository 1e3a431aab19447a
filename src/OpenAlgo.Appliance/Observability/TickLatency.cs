using System.Diagnostics.Metrics;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// One site's <c>openalgo_appliance_tick_to_frame_seconds</c>: how long the oldest tick of a flush
/// waited between reaching the hub and being written to the client's socket. Recorded once per flush
/// by <see cref="MarketData.Hub.Outbox"/>, never per frame, so the fan-out pays one clock read per
/// tick and one histogram update per socket write (bench/: fan-out CPU unchanged, docs/benchmarks.md).
/// </summary>
internal sealed class TickLatency(Histogram<double> histogram, string site)
{
    private readonly KeyValuePair<string, object?> _site = new("site", site);

    public void Record(TimeSpan elapsed) => histogram.Record(elapsed.TotalSeconds, _site);
}
