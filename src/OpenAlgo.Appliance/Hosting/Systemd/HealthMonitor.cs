namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>
/// Progress counters of the loops that must keep running (each site's connection supervisor and
/// market-data source). The watchdog pets systemd only while every counter advanced since its last
/// look, so a wedged hub gets the process restarted instead of silently serving nothing. Sites
/// register their loops when they start and take them back when they stop.
/// </summary>
internal sealed class HealthMonitor
{
    private readonly Lock _gate = new();
    private readonly List<Component> _components = [];
    private string? _lastStalled;
    private long _pets;

    /// <summary>WATCHDOG=1 sent so far (the meters' <c>openalgo_appliance_watchdog_pets_total</c>).</summary>
    public long Pets => Interlocked.Read(ref _pets);

    public void Petted() => Interlocked.Increment(ref _pets);

    /// <summary>What the last <see cref="Check"/> found stalled (null: everything progressed), for /healthz.</summary>
    public string? LastStalled => Volatile.Read(ref _lastStalled);

    /// <summary>Watches <paramref name="progress"/> until the returned handle is disposed.</summary>
    public IDisposable Register(string name, Func<long> progress)
    {
        var component = new Component(this, name, progress);
        lock (_gate) _components.Add(component);
        return component;
    }

    /// <summary>Null when every component progressed since the previous call; else the names that did not.</summary>
    public string? Check()
    {
        lock (_gate)
        {
            List<string>? stalled = null;
            foreach (var component in _components)
            {
                long now = component.Progress();
                if (now == component.Last) (stalled ??= []).Add(component.Name);
                component.Last = now;
            }
            string? result = stalled is null ? null : string.Join(", ", stalled);
            Volatile.Write(ref _lastStalled, result);
            return result;
        }
    }

    private sealed class Component(HealthMonitor owner, string name, Func<long> progress) : IDisposable
    {
        public string Name { get; } = name;
        public Func<long> Progress { get; } = progress;
        /// <summary>Never equal to a first reading: a component is judged from its second look on.</summary>
        public long Last = long.MinValue;

        public void Dispose()
        {
            lock (owner._gate) owner._components.Remove(this);
        }
    }
}
