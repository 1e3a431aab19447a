using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Security;

/// <summary>
/// Growing delay for failed <c>authenticate</c> calls, per client address (<c>Security:AuthThrottle</c>).
/// The first <c>FreeFailures</c> refusals to an address go out at once; each later one is held
/// <c>InitialDelaySeconds</c>, doubling per failure up to <c>MaxDelaySeconds</c>, and an address with
/// no failure for <c>ForgetAfterSeconds</c> starts again from zero. Only refusals wait: the key is
/// checked first and a valid key — from the same address, even while its refusals are held —
/// authenticates at once. A connection handles its messages in order, so a script trying keys on
/// one connection tries one per delay. Every refusal counts: the appliance's own (static keys,
/// OpenAlgo's database) and OpenAlgo's proxy's (<c>MarketData:Source=OpenAlgo</c>). IPv6 addresses
/// count per /64 (one host's usual allocation), IPv4-mapped ones as IPv4. Keys are never logged,
/// not even hashed, here: the log names the address and the count, once per tenfold.
/// </summary>
internal sealed partial class AuthThrottle(AuthThrottleSection settings, TimeProvider time, ILogger<AuthThrottle> logger)
{
    /// <summary>Above this many addresses, ones whose failures are forgotten are dropped.</summary>
    private const int SweepAbove = 10_000;

    /// <summary>Never more (an address spray): then the table starts over, logged.</summary>
    private const int MaxTracked = 100_000;

    private readonly ConcurrentDictionary<UInt128, Entry> _entries = new();
    private AuthThrottleSection _settings = settings;
    private long _delayedRefusals;
    private int _sweeping;

    /// <summary>Refusals held back so far.</summary>
    public long DelayedRefusals => Interlocked.Read(ref _delayedRefusals);

    /// <summary>Addresses with failures on record.</summary>
    public int TrackedAddresses => _entries.Count;

    /// <summary>New settings (SIGHUP); failure counts are kept.</summary>
    public void Reload(AuthThrottleSection fresh) => Volatile.Write(ref _settings, fresh);

    /// <summary>Records a failed authenticate from <paramref name="address"/>; how long to hold its refusal.</summary>
    public TimeSpan Failed(IPAddress? address)
    {
        var s = Volatile.Read(ref _settings);
        if (!s.Enabled || address is null) return TimeSpan.Zero;
        long now = time.GetTimestamp();
        var key = KeyOf(address);
        var entry = _entries.GetOrAdd(key, static _ => new Entry());
        int failures;
        lock (entry)
        {
            if (entry.LastFailure != 0 && time.GetElapsedTime(entry.LastFailure, now).TotalSeconds > s.ForgetAfterSeconds) entry.Failures = 0;
            entry.Failures++;
            entry.LastFailure = now;
            failures = entry.Failures;
        }
        if (_entries.Count > SweepAbove && Interlocked.Exchange(ref _sweeping, 1) == 0)
        {
            try
            {
                Sweep(now, s);
            }
            finally
            {
                Volatile.Write(ref _sweeping, 0);
            }
        }
        int beyond = failures - s.FreeFailures;
        if (beyond <= 0) return TimeSpan.Zero;
        double seconds = Math.Min(s.InitialDelaySeconds * Math.Pow(2, Math.Min(beyond - 1, 30)), s.MaxDelaySeconds);
        Interlocked.Increment(ref _delayedRefusals);
        if (IsPowerOfTen(beyond)) Log.Throttling(logger, Describe(address), failures, seconds);
        return TimeSpan.FromSeconds(seconds);
    }

    private void Sweep(long now, AuthThrottleSection s)
    {
        foreach (var (key, entry) in _entries)
        {
            long last;
            lock (entry) last = entry.LastFailure;
            if (time.GetElapsedTime(last, now).TotalSeconds > s.ForgetAfterSeconds) _entries.TryRemove(key, out _);
        }
        if (_entries.Count > MaxTracked)
        {
            Log.TooManyAddresses(logger, _entries.Count);
            _entries.Clear();
        }
    }

    private static bool IsPowerOfTen(int n)
    {
        while (n >= 10 && n % 10 == 0) n /= 10;
        return n == 1;
    }

    /// <summary>IPv4 (and IPv4-mapped IPv6) as themselves; other IPv6 addresses by their /64.</summary>
    internal static UInt128 KeyOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }
        address.TryWriteBytes(bytes, out _);
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), 1);
    }

    private static string Describe(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? address + " (/64)" : address.ToString();
    }

    private sealed class Entry
    {
        public int Failures;
        public long LastFailure;
    }

    private static partial class Log
    {
        [LoggerMessage(2700, LogLevel.Warning, "Address {Address}: {Failures} failed authentications; its refusals are now held {Seconds} s (Security:AuthThrottle; valid keys are not delayed)")]
        public static partial void Throttling(ILogger logger, string address, int failures, double seconds);

        [LoggerMessage(2701, LogLevel.Warning, "Failed authentications from {Count} addresses on record: the throttle table starts over")]
        public static partial void TooManyAddresses(ILogger logger, int count);
    }
}
