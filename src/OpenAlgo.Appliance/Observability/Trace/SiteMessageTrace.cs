using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using OpenAlgo.Appliance.MarketData.Hub;

namespace OpenAlgo.Appliance.Observability.Trace;

/// <summary>
/// One site's view of the <see cref="MessageTrace"/>: the hooks its connections
/// (<see cref="ConnectionTrace"/>), its upstream sessions (<see cref="UpstreamTrace"/>) and its
/// sources (<see cref="Tick"/>, after the hub has fanned a tick out) call. Lines start with <c>[site]</c>.
/// </summary>
internal sealed class SiteMessageTrace(string site, MessageTrace trace)
{
    private volatile TickCounters? _counters;

    public string Site => site;

    /// <summary>The trace's settings when it is on and this site is traced, else null (one volatile read).</summary>
    public TraceSettings? Settings
    {
        get
        {
            var settings = trace.Settings;
            return settings is not null && settings.SiteMatches(site) ? settings : null;
        }
    }

    public ConnectionTrace Connection(ClientSession session) => new(this, session);

    /// <param name="clients">The local clients using the upstream session, for the Users and Addresses filters.</param>
    public UpstreamTrace Upstream(string keyFingerprint, Func<IEnumerable<ClientSession>> clients) => new(this, keyFingerprint, clients);

    public void Write(TraceSettings settings, string line) => trace.Write(settings, $"[{site}] {line}");

    /// <summary>
    /// A tick the hub has just queued to at least one client (<paramref name="hub"/>'s fan-out is not
    /// touched): counted per symbol, and the first and then every <see cref="TraceSettings.TickSampleEvery"/>th
    /// is written with the traced clients that got it. Off, this is one volatile read.
    /// </summary>
    public void Tick(MarketDataHub hub, SymbolKey key, int mode, ReadOnlySpan<byte> data, string origin)
    {
        var settings = trace.Settings;
        if (settings is null || settings.TickSampleEvery == 0 || !settings.SiteMatches(site)) return;
        long seen = Interlocked.Increment(ref CountersFor(settings).Of(key).Value);
        if ((seen - 1) % settings.TickSampleEvery != 0) return;
        var recipients = new StringBuilder();
        foreach (var (session, tag) in hub.TraceRecipients(key, mode))
        {
            if (!settings.ClientMatches(session.UserId, session.RemoteAddress)) continue;
            if (recipients.Length > 0) recipients.Append(", ");
            recipients.Append(Describe(session)).Append(" as mode ").Append(tag);
        }
        if (recipients.Length == 0) return;
        string sample = settings.TickSampleEvery == 1 ? "" : $", tick {seen} of this symbol, 1 in {settings.TickSampleEvery} traced";
        Write(settings, $"tick {key} mode {mode} {origin}{sample} to {recipients}: {TraceText.Of(data)}");
    }

    /// <summary><c>client 7 (alice, 203.0.113.7, wss)</c>.</summary>
    public static string Describe(ClientSession session) =>
        $"client {session.Id} ({session.UserId ?? "-"}, {Address(session)}, {(session.Listener == "https" ? "wss" : session.Listener)})";

    private static string Address(ClientSession session) => session.RemoteAddress switch
    {
        null => "?",
        { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4().ToString(),
        var address => address.ToString(),
    };

    /// <summary>The per-symbol tick counts of the settings now in force (a reload starts them afresh).</summary>
    private TickCounters CountersFor(TraceSettings settings)
    {
        var counters = _counters;
        if (counters is not null && ReferenceEquals(counters.Owner, settings)) return counters;
        var fresh = new TickCounters(settings);
        _counters = fresh;
        return fresh;
    }

    private sealed class TickCounters(TraceSettings owner)
    {
        /// <summary>Bounds the table on a bus that publishes ever new symbols; counting restarts when it is full.</summary>
        private const int MaxSymbols = 100_000;

        private readonly ConcurrentDictionary<SymbolKey, StrongBox<long>> _bySymbol = new();

        public TraceSettings Owner => owner;

        public StrongBox<long> Of(SymbolKey key)
        {
            if (_bySymbol.TryGetValue(key, out var count)) return count;
            if (_bySymbol.Count >= MaxSymbols) _bySymbol.Clear();
            return _bySymbol.GetOrAdd(key, static _ => new StrongBox<long>());
        }
    }
}
