using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;

internal enum ProxyAuthOutcome
{
    /// <summary><c>{"type": "auth", "status": "success", ...}</c>.</summary>
    Success,
    /// <summary>A BROKER_* error: the key was valid, so OpenAlgo counts the connection as authenticated (§4.4 step 3).</summary>
    KeyValidNoBroker,
    /// <summary>AUTHENTICATION_ERROR (or anything else): not authenticated.</summary>
    Rejected,
    /// <summary>The proxy could not be reached or did not answer.</summary>
    Unavailable,
}

/// <summary>OpenAlgo's answer to <c>authenticate</c>, with the exact bytes to relay to the client.</summary>
internal sealed record ProxyAuthResult(ProxyAuthOutcome Outcome, byte[]? Reply, string? UserId, string? Broker, string Message)
{
    public bool Accepted => Outcome is ProxyAuthOutcome.Success or ProxyAuthOutcome.KeyValidNoBroker;

    public static ProxyAuthResult From(ProxyReply reply)
    {
        var dict = reply.Dict;
        string message = (dict?.Get("message") as PyStr)?.Value ?? "";
        if (reply.Type == "auth" && reply.Status == "success")
        {
            string? user = dict!.Get("user_id") is { IsTruthy: true } u ? u.Str() : null;
            string? broker = dict.Get("broker") is { IsTruthy: true } b ? b.Str() : null;
            if (user is not null) return new(ProxyAuthOutcome.Success, reply.Raw, user, broker, message);
        }
        if (reply.IsErrorEnvelope && reply.Code is { } code && code.StartsWith("BROKER", StringComparison.Ordinal))
        {
            return new(ProxyAuthOutcome.KeyValidNoBroker, reply.Raw, null, null, message);
        }
        return new(ProxyAuthOutcome.Rejected, reply.Raw, null, null, message);
    }

    public static ProxyAuthResult Busy(Uri uri) =>
        new(ProxyAuthOutcome.Unavailable, null, null, null, $"Too many new API keys are being checked by OpenAlgo's proxy at {uri} right now; try again shortly");

    public static ProxyAuthResult Unavailable(Uri uri, string problem) =>
        new(ProxyAuthOutcome.Unavailable, null, null, null, $"Market data upstream (OpenAlgo's proxy at {uri}) is unavailable: {problem}");
}
