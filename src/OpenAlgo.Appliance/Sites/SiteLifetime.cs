namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// A site's view of the application lifetime: it is stopping when the process is, or when the
/// site alone is being stopped (removed or rebuilt on reload). The services inside a site — the
/// connection supervisor that closes clients with 1001, the endpoint's cancellation — read it as
/// they read the host's, so they need not know whether the process or only their site stops.
/// </summary>
internal sealed class SiteLifetime : IHostApplicationLifetime, IDisposable
{
    private readonly IHostApplicationLifetime _host;
    private readonly CancellationTokenSource _stopping;
    private readonly CancellationTokenSource _stopped = new();

    public SiteLifetime(IHostApplicationLifetime host)
    {
        _host = host;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(host.ApplicationStopping);
    }

    public CancellationToken ApplicationStarted => _host.ApplicationStarted;
    public CancellationToken ApplicationStopping => _stopping.Token;
    public CancellationToken ApplicationStopped => _stopped.Token;

    /// <summary>A site cannot stop the process; asking does what asking the host does.</summary>
    public void StopApplication() => _host.StopApplication();

    public void SiteStopping() => _stopping.Cancel();

    public void SiteStopped() => _stopped.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        _stopped.Dispose();
    }
}
