namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// The system's clocks with a wall clock that can be set off by <see cref="Offset"/> — what an
/// operator's <c>date -s</c>, a dead RTC or an NTP step does: <c>GetUtcNow</c> jumps, the monotonic
/// clock (timestamps, timers, delays) runs on untouched, as the kernel's CLOCK_MONOTONIC does.
/// </summary>
internal sealed class WallClock : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
        set => Interlocked.Exchange(ref _offsetTicks, value.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
