using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// Builds, starts and stops the sites — all of them with the process (before the public listeners
/// open, so every certificate is loaded when the first handshake comes), and one at a time when a
/// reload adds, removes or changes a site, while the others keep serving.
/// </summary>
internal sealed partial class SiteHost(
    ApplianceOptions options,
    IServiceProvider root,
    SiteRegistry registry,
    SystemdSocketSet sockets,
    ILogger<SiteHost> logger,
    SiteServicesHook? hook = null) : IHostedService
{
    /// <summary>How long a stopping site's clients and connections get to finish.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Site> _sites = [];
    private ApplianceOptions _options = options;

    private SiteContext ContextFor(ApplianceOptions configuration) =>
        new(root, configuration, Named: configuration.Sites.Count > 0, sockets.Sockets, hook?.Configure);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var context = ContextFor(_options);
            foreach (var siteOptions in _options.EffectiveSites)
            {
                var site = Site.Build(siteOptions, context);
                try
                {
                    await site.StartAsync(cancellationToken);
                }
                catch
                {
                    await StopAllAsync();
                    throw;
                }
                _sites.Add(site);
            }
            registry.Set(_sites);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            await StopAllAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StopAllAsync()
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        var stopping = _sites.ToArray();
        _sites.Clear();
        registry.Set(_sites);
        await Task.WhenAll(stopping.Select(s => s.StopAsync(timeout.Token)));
    }

    /// <summary>
    /// SIGHUP: sites new in <paramref name="fresh"/> are started, sites gone are stopped, a site
    /// whose changes apply in place is updated, any other changed site is rebuilt — stopped, then
    /// started from its new options (ports and endpoints are its own, so they are free again). A
    /// site that cannot start is reported, and a rebuilt one falls back to its running version.
    /// </summary>
    public async Task<SiteReloadOutcome> ApplyAsync(ApplianceOptions fresh, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var outcome = new SiteReloadOutcome();
            var before = _options;
            var context = ContextFor(fresh);
            bool namingChanged = (before.Sites.Count > 0) != (fresh.Sites.Count > 0);
            var wanted = fresh.EffectiveSites;
            var next = new List<Site>();

            foreach (var gone in _sites.Where(s => wanted.All(w => w.Name != s.Name)).ToList())
            {
                await StopOneAsync(gone);
                outcome.Removed.Add(gone.Name);
            }
            foreach (var siteOptions in wanted)
            {
                var running = _sites.FirstOrDefault(s => s.Name == siteOptions.Name);
                if (running is null)
                {
                    var started = await TryStartAsync(siteOptions, context, outcome);
                    if (started is not null)
                    {
                        next.Add(started);
                        outcome.Added.Add(siteOptions.Name);
                    }
                    continue;
                }
                var changed = SiteChanges.Between(before, running.Options, fresh, siteOptions);
                if (!namingChanged && SiteChanges.AppliesInPlace(changed))
                {
                    running.Update(siteOptions);
                    next.Add(running);
                    if (changed.Count > 0) outcome.Updated.Add($"{siteOptions.Name} ({string.Join(", ", changed)})");
                    continue;
                }
                await StopOneAsync(running);
                var rebuilt = await TryStartAsync(siteOptions, context, outcome);
                if (rebuilt is not null)
                {
                    next.Add(rebuilt);
                    outcome.Rebuilt.Add($"{siteOptions.Name} ({(namingChanged ? "site names" : string.Join(", ", changed))})");
                }
                else if (await TryStartAsync(running.Options, ContextFor(before), outcome) is { } restored)
                {
                    // The new version cannot run: the running one comes back, the operator sees why.
                    next.Add(restored);
                    Log.Restored(logger, siteOptions.Name);
                }
            }
            _sites.Clear();
            _sites.AddRange(next);
            registry.Set(_sites);
            _options = fresh;
            return outcome;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Site?> TryStartAsync(SiteOptions siteOptions, SiteContext context, SiteReloadOutcome outcome)
    {
        var site = Site.Build(siteOptions, context);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await site.StartAsync(timeout.Token);
            return site;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            Log.StartFailed(logger, siteOptions.Name, ex.Message);
            outcome.Failed.Add($"{siteOptions.Name}: {ex.Message}");
            return null;
        }
    }

    private async Task StopOneAsync(Site site)
    {
        // Out of the routing first: no new connection reaches a site that is closing its clients.
        registry.Set(_sites.Where(s => !ReferenceEquals(s, site)));
        _sites.Remove(site);
        using var timeout = new CancellationTokenSource(StopTimeout);
        await site.StopAsync(timeout.Token);
    }

    private static partial class Log
    {
        [LoggerMessage(2210, LogLevel.Error, "Site {Site} could not start: {Reason}")]
        public static partial void StartFailed(ILogger logger, string site, string reason);

        [LoggerMessage(2211, LogLevel.Warning, "Site {Site}: its new configuration cannot run; the previous one is serving again")]
        public static partial void Restored(ILogger logger, string site);
    }
}

/// <summary>What a reload did to the sites, for the log and systemd's STATUS.</summary>
internal sealed class SiteReloadOutcome
{
    public List<string> Added { get; } = [];
    public List<string> Removed { get; } = [];
    public List<string> Updated { get; } = [];
    public List<string> Rebuilt { get; } = [];
    public List<string> Failed { get; } = [];

    public override string ToString()
    {
        var parts = new List<string>();
        if (Added.Count > 0) parts.Add("added " + string.Join(", ", Added));
        if (Removed.Count > 0) parts.Add("removed " + string.Join(", ", Removed));
        if (Rebuilt.Count > 0) parts.Add("rebuilt " + string.Join("; ", Rebuilt));
        if (Updated.Count > 0) parts.Add("updated in place " + string.Join("; ", Updated));
        if (Failed.Count > 0) parts.Add("failed " + string.Join("; ", Failed));
        return parts.Count == 0 ? "no site changed" : string.Join("; ", parts);
    }
}

/// <summary>Extra registrations for every site's container (tests tune a site's services with it).</summary>
internal sealed record SiteServicesHook(Action<SiteOptions, IServiceCollection> Configure);

/// <summary>The sockets systemd passed (<c>LISTEN_FDNAMES</c>), by name.</summary>
internal sealed record SystemdSocketSet(IReadOnlyDictionary<string, ulong> Sockets);
