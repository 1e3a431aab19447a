using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Upstream;

internal enum UpstreamAuthOutcome
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
internal sealed record UpstreamAuthResult(UpstreamAuthOutcome Outcome, byte[]? Reply, string? UserId, string? Broker, string Message)
{
    public bool Accepted => Outcome is UpstreamAuthOutcome.Success or UpstreamAuthOutcome.KeyValidNoBroker;

    public static UpstreamAuthResult From(UpstreamReply reply)
    {
        var dict = reply.Dict;
        string message = (dict?.Get("message") as PyStr)?.Value ?? "";
        if (reply.Type == "auth" && reply.Status == "success")
        {
            string? user = dict!.Get("user_id") is { IsTruthy: true } u ? u.Str() : null;
            string? broker = dict.Get("broker") is { IsTruthy: true } b ? b.Str() : null;
            if (user is not null) return new(UpstreamAuthOutcome.Success, reply.Raw, user, broker, message);
        }
        if (reply.IsErrorEnvelope && reply.Code is { } code && code.StartsWith("BROKER", StringComparison.Ordinal))
        {
            return new(UpstreamAuthOutcome.KeyValidNoBroker, reply.Raw, null, null, message);
        }
        return new(UpstreamAuthOutcome.Rejected, reply.Raw, null, null, message);
    }

    public static UpstreamAuthResult Busy(Uri uri) =>
        new(UpstreamAuthOutcome.Unavailable, null, null, null, $"Too many new API keys are being checked by OpenAlgo's proxy at {uri} right now; try again shortly");

    public static UpstreamAuthResult Unavailable(Uri uri, string problem) =>
        new(UpstreamAuthOutcome.Unavailable, null, null, null, $"Market data upstream (OpenAlgo's proxy at {uri}) is unavailable: {problem}");
}

/// <summary>OpenAlgo's per-symbol answers to a subscribe, or its whole-request error envelope.</summary>
internal sealed class UpstreamSubscribeResult
{
    /// <summary>The upstream's error reply (for example BROKER_ERROR "Broker adapter not found"), relayed as is.</summary>
    public byte[]? Envelope { get; set; }
    public Dictionary<SymbolKey, PyDict> Accepted { get; } = [];
    public Dictionary<SymbolKey, PyDict> Refused { get; } = [];
}
