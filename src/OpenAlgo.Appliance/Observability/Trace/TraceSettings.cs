using System.Net;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Observability.Trace;

/// <summary>
/// The message trace while it is on: what it traces, immutable (a reload publishes a new one, see
/// <see cref="MessageTrace.Settings"/>). A message is traced when its site is listed (or none are)
/// and its client matches both <see cref="Users"/> and the address ranges (an empty list matches all).
/// </summary>
internal sealed class TraceSettings
{
    private readonly HashSet<string> _sites;
    private readonly HashSet<string> _users;
    private readonly IPNetwork[] _networks;

    public TraceSettings(MessageTraceSection section)
    {
        _sites = new HashSet<string>(section.Sites.Select(s => s.Trim()), StringComparer.OrdinalIgnoreCase);
        _users = new HashSet<string>(section.Users.Select(u => u.Trim()), StringComparer.Ordinal);
        _networks = section.Addresses
            .Select(a => ApplianceOptionsValidator.TryParseTraceAddress(a, out var network) ? network : (IPNetwork?)null)
            .OfType<IPNetwork>().ToArray();
        TickSampleEvery = section.TickSampleEvery;
        BytesPerMinute = section.BytesPerMinute;
    }

    public IReadOnlyCollection<string> Sites => _sites;
    public IReadOnlyCollection<string> Users => _users;
    public IReadOnlyList<IPNetwork> Networks => _networks;
    public int TickSampleEvery { get; }
    public long BytesPerMinute { get; }

    /// <summary>Some clients are traced and others not (Users or Addresses is set).</summary>
    public bool FiltersClients => _users.Count > 0 || _networks.Length > 0;

    public bool SiteMatches(string site) => _sites.Count == 0 || _sites.Contains(site);

    public bool UserMatches(string? user) => _users.Count == 0 || (user is not null && _users.Contains(user));

    public bool AddressMatches(IPAddress? address)
    {
        if (_networks.Length == 0) return true;
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var network in _networks)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    public bool ClientMatches(string? user, IPAddress? address) => UserMatches(user) && AddressMatches(address);

    /// <summary>One line for the service log and the trace file's first line.</summary>
    public string Describe() =>
        $"sites {List(_sites)}, users {List(_users)}, addresses {List(_networks.Select(n => n.ToString()))}, "
        + (TickSampleEvery switch { 0 => "no ticks", 1 => "every tick", var n => $"ticks 1 in {n} per symbol" })
        + $", at most {BytesPerMinute} bytes a minute";

    private static string List(IEnumerable<string> items)
    {
        string joined = string.Join(" ", items);
        return joined.Length == 0 ? "all" : joined;
    }
}
