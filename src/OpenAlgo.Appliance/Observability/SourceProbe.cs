using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// What observability reads of a site's market-data source, whichever it is: its kind and address,
/// a progress counter that advances while its loops run, and for OpenAlgo's proxy how many key
/// sessions are connected.
/// </summary>
internal sealed class SourceProbe(MarketDataSourceKind kind, string address, Func<long>? progress, Func<(int Connected, int Total)>? sessions = null, Func<int>? publishers = null)
{
    public MarketDataSourceKind Kind { get; } = kind;
    public string Address { get; } = address;
    /// <summary>Advances while the source's loops run; null when the source has no such counter.</summary>
    public long? Progress => progress?.Invoke();

    /// <summary>(connected, total) key sessions; null for sources without sessions.</summary>
    public (int Connected, int Total)? Sessions => sessions?.Invoke();

    /// <summary>Publishers connected to a bus the site binds (ZeroMQ); null for sources that connect out themselves.</summary>
    public int? Publishers => publishers?.Invoke();
}
