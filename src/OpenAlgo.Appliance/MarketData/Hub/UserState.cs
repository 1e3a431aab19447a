namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>Per-user accounting: connected clients, distinct symbols held (OpenAlgo's pool capacity), order-update listeners.</summary>
internal sealed class UserState(string userId)
{
    public readonly Lock Gate = new();
    public string UserId { get; } = userId;
    public int Clients;
    /// <summary>(exchange, symbol) → how many of this user's clients hold it in any mode.</summary>
    public readonly Dictionary<SymbolKey, int> Symbols = [];
    public readonly HashSet<ClientSession> OrderSubscribers = [];
    /// <summary>Copy of <see cref="OrderSubscribers"/> for the lock-free push path.</summary>
    public ClientSession[] OrderSubscriberSnapshot = [];
}
