using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>The limits the hub enforces, read from <c>Appliance:Limits</c>. Replaced whole on reload.</summary>
internal sealed record HubLimits
{
    public int MaxClients { get; init; } = 20000;
    public int MaxClientsPerUser { get; init; } = 1000;
    public int MaxSymbolsPerClient { get; init; } = 3000;
    /// <summary>OpenAlgo's <c>MAX_SYMBOLS_PER_WEBSOCKET</c> (<c>Limits:SymbolsPerUpstreamConnection</c>): symbols per connection to the broker.</summary>
    public int SymbolsPerBrokerConnection { get; init; } = 1000;
    /// <summary>OpenAlgo's <c>MAX_WEBSOCKET_CONNECTIONS</c> (<c>Limits:UpstreamConnectionsPerUser</c>): broker connections per user.</summary>
    public int BrokerConnectionsPerUser { get; init; } = 3;
    public int MaxMessageBytes { get; init; } = 1 << 20;
    public int MaxSymbolsPerMessage { get; init; } = 3000;
    public int MaxKeysPerObject { get; init; } = 1000;
    public TimeSpan AuthGrace { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromDays(1);
    public double MaxMessagesPerSecond { get; init; } = 100;
    public int MessageBurst { get; init; } = 500;
    public int ClientQueueFrames { get; init; } = 4096;
    public TimeSpan SlowClientTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int SymbolCapacityPerUser => SymbolsPerBrokerConnection * BrokerConnectionsPerUser;

    public static HubLimits From(LimitsSection l) => new()
    {
        MaxClients = l.MaxClients,
        MaxClientsPerUser = l.MaxClientsPerUser,
        MaxSymbolsPerClient = l.MaxSymbolsPerClient,
        SymbolsPerBrokerConnection = l.SymbolsPerUpstreamConnection,
        BrokerConnectionsPerUser = l.UpstreamConnectionsPerUser,
        MaxMessageBytes = l.MaxMessageBytes,
        MaxSymbolsPerMessage = l.MaxSymbolsPerMessage,
        MaxKeysPerObject = l.MaxKeysPerObject,
        AuthGrace = TimeSpan.FromSeconds(l.AuthGraceSeconds),
        PingInterval = TimeSpan.FromSeconds(l.PingIntervalSeconds),
        PingTimeout = TimeSpan.FromSeconds(l.PingTimeoutSeconds),
        IdleTimeout = TimeSpan.FromSeconds(l.IdleTimeoutSeconds),
        MaxMessagesPerSecond = l.MaxMessagesPerSecond,
        MessageBurst = l.MessageBurst,
        ClientQueueFrames = l.ClientQueueFrames,
        SlowClientTimeout = TimeSpan.FromSeconds(l.SlowClientTimeoutSeconds),
        CloseTimeout = TimeSpan.FromSeconds(l.CloseTimeoutSeconds),
    };
}
