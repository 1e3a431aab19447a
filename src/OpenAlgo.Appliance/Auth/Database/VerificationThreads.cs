using System.Collections.Concurrent;

namespace OpenAlgo.Appliance.Auth.Database;

/// <summary>
/// A few dedicated threads for Argon2 and the database lookups around it. A verification holds a
/// thread for ~90 ms of CPU (64 MiB, t=3): on the thread pool, two of them at once starve a
/// two-core box — every connection's sends, reads and timers wait for the pool to grow (measured:
/// pongs 0.27 s late with 2 first-time keys, seconds with 10). Here they queue instead, their
/// callers await without holding any thread, and the thread count caps the memory in use.
/// </summary>
internal sealed class VerificationThreads : IDisposable
{
    private readonly BlockingCollection<Action> _jobs = new();

    public VerificationThreads(int count, string name)
    {
        for (int i = 0; i < count; i++)
        {
            new Thread(Work) { IsBackground = true, Name = $"{name} {i + 1}" }.Start();
        }
    }

    /// <summary>Queues <paramref name="work"/>; the task completes (on the thread pool) with its result.</summary>
    public Task<T> Run<T>(Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _jobs.Add(() =>
            {
                try
                {
                    result.SetResult(work());
                }
                catch (Exception ex)
                {
                    result.SetException(ex);
                }
            });
        }
        catch (InvalidOperationException)
        {
            result.SetException(new ObjectDisposedException(nameof(VerificationThreads)));
        }
        return result.Task;
    }

    private void Work()
    {
        foreach (var job in _jobs.GetConsumingEnumerable()) job();
    }

    public void Dispose() => _jobs.CompleteAdding();
}
