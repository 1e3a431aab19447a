namespace OpenAlgo.Appliance.Configuration;

/// <summary><c>Logging:*</c>: what is logged besides the service log (global: one value for every site).</summary>
internal sealed class LoggingSection
{
    public MessageTraceSection MessageTrace { get; set; } = new();
}

/// <summary>
/// <c>Logging:MessageTrace:*</c>: the market-data messages themselves, written to their own file in
/// <c>LogsDirectory</c> for debugging a client (<see cref="Observability.Trace.MessageTrace"/>). Off by
/// default; SIGHUP applies a change. A message is traced when its site is in <see cref="Sites"/> and
/// its client matches <see cref="Users"/> and <see cref="Addresses"/> (an empty list matches all).
/// </summary>
internal sealed class MessageTraceSection
{
    public bool Enabled { get; set; }

    /// <summary>Site names; empty: every site.</summary>
    public List<string> Sites { get; set; } = [];

    /// <summary>User ids (as the authenticate reply names them); empty: every user.</summary>
    public List<string> Users { get; set; } = [];

    /// <summary>Client addresses, an IP or a CIDR range (<c>203.0.113.7</c>, <c>10.0.0.0/8</c>); empty: every address.</summary>
    public List<string> Addresses { get; set; } = [];

    /// <summary>
    /// Market-data ticks written: the first of each symbol and then one in this many (per symbol, so a
    /// busy symbol cannot crowd out a quiet one). 1 writes every tick; 0 none.
    /// </summary>
    public int TickSampleEvery { get; set; } = 100;

    /// <summary>The most the trace writes in one minute; what is over it is counted and reported once a minute.</summary>
    public long BytesPerMinute { get; set; } = 1 << 20;
}
