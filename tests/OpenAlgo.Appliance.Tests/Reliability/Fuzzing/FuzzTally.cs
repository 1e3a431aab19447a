using System.Collections.Concurrent;
using System.Text;

namespace OpenAlgo.Appliance.Fuzzing;

/// <summary>What a fuzz run sent and what came back; thread-safe. <see cref="Failures"/> must stay 0.</summary>
internal sealed class FuzzTally
{
    private long _frames;
    private long _cases;
    private long _connections;
    private long _replies;
    private long _pongs;
    private long _failures;
    private long _delayedRefusals;
    private long _handshakeFailures;

    public ConcurrentDictionary<string, long> CasesByKind { get; } = new();
    public ConcurrentDictionary<string, long> RepliesByCode { get; } = new();
    public ConcurrentDictionary<string, long> ClosesByCode { get; } = new();
    public ConcurrentQueue<string> FailureSamples { get; } = new();

    public long Frames => Interlocked.Read(ref _frames);
    public long Cases => Interlocked.Read(ref _cases);
    public long Connections => Interlocked.Read(ref _connections);
    public long Replies => Interlocked.Read(ref _replies);
    public long Pongs => Interlocked.Read(ref _pongs);
    public long Failures => Interlocked.Read(ref _failures);
    public long HandshakeFailures => Interlocked.Read(ref _handshakeFailures);

    /// <summary>Refusals of a wrong key that took over half a second (the per-address throttle at work).</summary>
    public long DelayedRefusals => Interlocked.Read(ref _delayedRefusals);

    public void Sent(FuzzCase c)
    {
        Interlocked.Add(ref _frames, c.Frames);
        Interlocked.Increment(ref _cases);
        CasesByKind.AddOrUpdate(c.Kind, 1, (_, n) => n + 1);
    }

    public void Connected() => Interlocked.Increment(ref _connections);

    public void HandshakeFailed(string why)
    {
        Interlocked.Increment(ref _handshakeFailures);
        Fail($"handshake: {why}");
    }

    public void Reply(string code)
    {
        Interlocked.Increment(ref _replies);
        RepliesByCode.AddOrUpdate(code, 1, (_, n) => n + 1);
    }

    public void Pong() => Interlocked.Increment(ref _pongs);

    public void DelayedRefusal() => Interlocked.Increment(ref _delayedRefusals);

    public void Closed(int code) => ClosesByCode.AddOrUpdate(code.ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);

    public void Fail(string what)
    {
        if (Interlocked.Increment(ref _failures) <= 40) FailureSamples.Enqueue(what);
    }

    public string Summary()
    {
        var text = new StringBuilder();
        text.Append($"frames {Frames:N0}, cases {Cases:N0}, connections {Connections:N0}, replies {Replies:N0}, pongs {Pongs:N0}, failures {Failures}, handshake failures {HandshakeFailures}, delayed refusals {DelayedRefusals}\n");
        text.Append("cases: ").AppendJoin(", ", CasesByKind.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:N0}")).Append('\n');
        text.Append("replies: ").AppendJoin(", ", RepliesByCode.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:N0}")).Append('\n');
        text.Append("closes: ").AppendJoin(", ", ClosesByCode.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value:N0}")).Append('\n');
        foreach (var failure in FailureSamples) text.Append("FAIL ").Append(failure).Append('\n');
        return text.ToString();
    }
}
