namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// News from the running sites worth a STATUS line at once — a proxy session connected or lost, a
/// certificate issued or an ACME attempt failed — raised by the sites' own services and passed on
/// by each site, so systemd's side needs to know neither the sites nor their services.
/// </summary>
internal sealed class SiteEvents
{
    public event Action<Site, string>? News;

    public void Report(Site site, string message) => News?.Invoke(site, message);
}
