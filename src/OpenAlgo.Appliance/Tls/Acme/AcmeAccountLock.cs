namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// The one ACME account every site shares is loaded, and registered when there is none, under this
/// lock: two sites ordering at their first start register one account, not two. Each site's
/// renewal is otherwise independent (its own loop, lock file, backoff and failures).
/// </summary>
internal sealed class AcmeAccountLock
{
    public SemaphoreSlim Gate { get; } = new(1, 1);
}
