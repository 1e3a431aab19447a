namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// Event counts of one hub that no other structure keeps: refused API keys, slow clients closed,
/// and the conflation counts of clients that are gone. Incremented off the tick path (a refusal, a
/// close, a disconnect); read by the meters (<c>Observability/ApplianceMeters</c>).
/// </summary>
internal sealed class HubCounters
{
    private long _authFailures;
    private long _slowClientDisconnects;
    private long _retiredConflated;

    /// <summary>authenticate refused: invalid key, or OpenAlgo's proxy refused it.</summary>
    public long AuthFailures => Interlocked.Read(ref _authFailures);

    /// <summary>Clients closed with 1008 because they made no progress while backlogged.</summary>
    public long SlowClientDisconnects => Interlocked.Read(ref _slowClientDisconnects);

    /// <summary>Ticks conflated for clients that have disconnected (the live ones keep their own count).</summary>
    public long RetiredConflated => Interlocked.Read(ref _retiredConflated);

    public void AuthFailed() => Interlocked.Increment(ref _authFailures);

    public void SlowClientDisconnected() => Interlocked.Increment(ref _slowClientDisconnects);

    public void Retire(Outbox outbox) => Interlocked.Add(ref _retiredConflated, outbox.ConflatedTotal);
}
