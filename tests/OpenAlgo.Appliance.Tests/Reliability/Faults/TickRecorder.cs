using System.Globalization;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Reliability.Faults;

/// <summary>
/// Reads one client's ticks from <c>streaming_publisher.py</c> until stopped: every sequence number,
/// whether each came right after the one before (from the first one seen: ZeroMQ's slow joiner may
/// drop a new publisher's first ticks), and each tick's latency (publisher's wall clock at send →
/// this process's at receipt), labelled with the phase the test is in when it arrives.
/// </summary>
internal sealed partial class TickRecorder : IAsyncDisposable
{
    private readonly WsTestClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<double>> _latencies = [];
    private readonly List<string> _gaps = [];
    private volatile string _phase = "";
    private long _last = -1;
    private long _count;

    public TickRecorder(WsTestClient client, string phase)
    {
        _client = client;
        _phase = phase;
        _loop = Task.Run(LoopAsync);
    }

    public WsTestClient Client => _client;

    /// <summary>The phase later ticks are counted in.</summary>
    public string Phase { set => _phase = value; }

    public long Count => Interlocked.Read(ref _count);

    public long Last => Interlocked.Read(ref _last);

    /// <summary>A tick missing or out of order ("seq 120 after 118"); empty when none.</summary>
    public IReadOnlyList<string> Gaps { get { lock (_gate) return [.. _gaps]; } }

    /// <summary>Why the loop ended before it was stopped (the connection closed or failed); null while it runs.</summary>
    public string? Ended { get; private set; }

    /// <summary>Sequence numbers from here on start a new publisher's run: the next one may be any number at or above <paramref name="first"/>.</summary>
    public void ExpectRestartAt(long first)
    {
        lock (_gate) _restartAt = first;
    }

    private long _restartAt = -1;

    public (int Count, double P50, double P99, double Max) Latency(string phase)
    {
        lock (_gate)
        {
            if (!_latencies.TryGetValue(phase, out var list) || list.Count == 0) return (0, 0, 0, 0);
            var sorted = list.Order().ToArray();
            return (sorted.Length, sorted[(int)(sorted.Length * 0.50)], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))], sorted[^1]);
        }
    }

    private async Task LoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                string message = await _client.ReceiveAsync(TimeSpan.FromMinutes(5)).WaitAsync(_stop.Token);
                var match = Fields().Match(message);
                if (!match.Success) continue; // replies, pongs
                long seq = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                double sent = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                lock (_gate)
                {
                    if (_restartAt >= 0 && seq >= _restartAt)
                    {
                        _restartAt = -1;
                    }
                    else if (_last >= 0 && seq != _last + 1 && _gaps.Count < 20)
                    {
                        _gaps.Add($"seq {seq} after {_last}");
                    }
                    Interlocked.Exchange(ref _last, seq);
                    Interlocked.Increment(ref _count);
                    if (!_latencies.TryGetValue(_phase, out var list)) _latencies[_phase] = list = [];
                    list.Add((DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalMilliseconds - sent * 1000);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Ended = $"{e.GetType().Name}: {e.Message} (close {_client.CloseStatus} {_client.CloseDescription})";
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        await _client.DisposeAsync();
    }

    [GeneratedRegex("\"seq\": (\\d+), \"ts\": ([0-9.eE+-]+)")]
    private static partial Regex Fields();
}
