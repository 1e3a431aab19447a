namespace OpenAlgo.Appliance.Tests.TestSupport;

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/> (default 10 s).</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Polls <paramref name="value"/> until it is not null and returns it; fails with <paramref name="what"/> after <paramref name="timeout"/> (default 10 s).</summary>
    public static async Task<T> ValueAsync<T>(Func<T?> value, string what, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (value() is { } found) return found;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Retries <paramref name="action"/> until it stops throwing; rethrows the last failure after <paramref name="timeout"/>.</summary>
    public static async Task SucceedsAsync(Func<Task> action, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
