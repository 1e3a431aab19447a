namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>
/// Progress counters of the loops that must keep running (connection supervisor, market-data bus).
/// The watchdog pets systemd only while every counter advanced since its last look, so a wedged
/// hub gets the process restarted instead of silently serving nothing.
/// </summary>
internal sealed class HealthMonitor
{
    private readonly List<(string Name, Func<long> Progress)> _components = [];
    private long[] _last = [];
    private string? _lastStalled;

    private long _pets;

    /// <summary>WATCHDOG=1 sent so far (the meters' <c>openalgo_appliance_watchdog_pets_total</c>).</summary>
    public long Pets => Interlocked.Read(ref _pets);

    public void Petted() => Interlocked.Increment(ref _pets);

    /// <summary>What the last <see cref="Check"/> found stalled (null: everything progressed), for /healthz.</summary>
    public string? LastStalled => Volatile.Read(ref _lastStalled);

    public void Register(string name, Func<long> progress)
    {
        lock (_components)
        {
            _components.Add((name, progress));
            _last = [.. _last, long.MinValue];
        }
    }

    /// <summary>Null when every component progressed since the previous call; else the names that did not.</summary>
    public string? Check()
    {
        lock (_components)
        {
            List<string>? stalled = null;
            for (int i = 0; i < _components.Count; i++)
            {
                long now = _components[i].Progress();
                if (now == _last[i]) (stalled ??= []).Add(_components[i].Name);
                _last[i] = now;
            }
            string? result = stalled is null ? null : string.Join(", ", stalled);
            Volatile.Write(ref _lastStalled, result);
            return result;
        }
    }
}
