using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Tests.Infrastructure;

/// <summary>cachetools' TTLCache as OpenAlgo sizes its key caches.</summary>
public sealed class TtlCacheTests
{
    [Fact]
    public void Entries_expire_after_the_ttl()
    {
        var time = new ManualTime();
        var cache = new TtlCache<string>(4, TimeSpan.FromSeconds(300), time);
        cache.Set("k", "user");
        time.Advance(TimeSpan.FromSeconds(299));
        Assert.True(cache.TryGet("k", out var user));
        Assert.Equal("user", user);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet("k", out _));
    }

    [Fact]
    public void When_full_expired_entries_go_first_then_the_one_closest_to_expiry()
    {
        var time = new ManualTime();
        var cache = new TtlCache<int>(2, TimeSpan.FromSeconds(10), time);
        cache.Set("oldest", 1);
        time.Advance(TimeSpan.FromSeconds(1));
        cache.Set("newer", 2);
        cache.Set("newest", 3);
        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet("oldest", out _));
        Assert.True(cache.TryGet("newer", out _));
        cache.Set("newer", 4); // replacing an entry never evicts another
        Assert.True(cache.TryGet("newest", out _));
        cache.Clear();
        Assert.Equal(0, cache.Count);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;
        public void Advance(TimeSpan by) => _ticks += (long)(by.TotalSeconds * TimestampFrequency);
        public override long GetTimestamp() => _ticks;
        public override long TimestampFrequency => 1_000_000;
    }
}
