namespace OpenAlgo.Appliance.Auth;

/// <summary>
/// Answers "whose key is this, and which broker do they use" — OpenAlgo's <c>verify_api_key</c> +
/// <c>get_broker_name</c>. Implementations must not block the caller's thread for long: a slow check
/// (Argon2, a database) runs off the I/O path so other clients keep being served.
/// </summary>
internal interface IApiKeyAuthenticator
{
    ValueTask<ApiKeyCheck> CheckAsync(string apiKey, CancellationToken cancellationToken);

    /// <summary>OpenAlgo's bus said cached auth of <paramref name="userId"/> is stale (<c>AUTH</c>, <c>FEED</c> or <c>ALL</c>).</summary>
    void Invalidate(string cacheType, string? userId)
    {
    }
}

internal enum ApiKeyCheckStatus
{
    Valid,
    /// <summary>OpenAlgo: AUTHENTICATION_ERROR "Invalid API key".</summary>
    InvalidKey,
    /// <summary>The key is valid but no broker is recorded (or it is revoked): BROKER_ERROR.</summary>
    NoBroker,
    /// <summary>The key could not be checked (database unreadable): no verdict, nothing cached.</summary>
    Unavailable,
}

internal readonly record struct ApiKeyCheck(ApiKeyCheckStatus Status, string? UserId, string? Broker)
{
    public static ApiKeyCheck Invalid => new(ApiKeyCheckStatus.InvalidKey, null, null);
}
