namespace OpenAlgo.Appliance.Infrastructure;

/// <summary>
/// cachetools' <c>TTLCache(maxsize, ttl)</c> as OpenAlgo uses it: entries expire after the TTL and,
/// when full, the entry closest to expiry goes first. Thread-safe.
/// </summary>
internal sealed class TtlCache<TValue>(int capacity, TimeSpan ttl, TimeProvider time)
{
    private readonly Dictionary<string, (TValue Value, long Expires)> _entries = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly long _ttlTicks = (long)(ttl.TotalSeconds * time.TimestampFrequency);

    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    public bool TryGet(string key, out TValue value)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                if (entry.Expires > time.GetTimestamp())
                {
                    value = entry.Value;
                    return true;
                }
                _entries.Remove(key);
            }
        }
        value = default!;
        return false;
    }

    public void Set(string key, TValue value)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            if (!_entries.ContainsKey(key) && _entries.Count >= capacity)
            {
                foreach (var expired in _entries.Where(e => e.Value.Expires <= now).Select(e => e.Key).ToList()) _entries.Remove(expired);
                if (_entries.Count >= capacity) _entries.Remove(_entries.MinBy(e => e.Value.Expires).Key);
            }
            _entries[key] = (value, now + _ttlTicks);
        }
    }

    public void Clear()
    {
        lock (_gate) _entries.Clear();
    }
}
