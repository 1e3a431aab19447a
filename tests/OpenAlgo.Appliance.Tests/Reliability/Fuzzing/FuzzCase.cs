namespace OpenAlgo.Appliance.Fuzzing;

/// <summary>
/// One thing thrown at the server — a message, a fragment run, a control frame or a protocol
/// violation — as the exact bytes on the wire, with what the server must answer. Shared by the
/// CI-bounded fuzz test and the opt-in <c>openalgo-bench fuzz</c> run (the file is linked into both).
/// </summary>
internal sealed class FuzzCase
{
    /// <summary>A short name for tallies ("message", "fragmented", "unmasked", …).</summary>
    public required string Kind { get; init; }

    /// <summary>The frames, masked as a client sends them (or deliberately not).</summary>
    public required byte[] Bytes { get; init; }

    /// <summary>How many WebSocket frames <see cref="Bytes"/> holds (a truncated frame counts as one).</summary>
    public required int Frames { get; init; }

    /// <summary>JSON replies the server owes (one per complete client message) before anything else of this case.</summary>
    public int Replies { get; init; }

    /// <summary>Error codes a reply may carry; null for any valid reply or spec error.</summary>
    public IReadOnlyCollection<string>? ReplyCodes { get; init; }

    /// <summary>The reply must be an error (one of <see cref="ReplyCodes"/>), never a success.</summary>
    public bool ErrorOnly { get; init; }

    /// <summary>Pong payloads the server owes, in order (one per Ping of the case).</summary>
    public IReadOnlyList<byte[]> Pongs { get; init; } = [];

    /// <summary>Non-null: the case breaks the protocol and the server must close with one of these codes.</summary>
    public IReadOnlyCollection<int>? CloseCodes { get; init; }

    /// <summary>The case may end either way: one reply with an error code, or a close with one of <see cref="CloseCodes"/> (a text frame masked with another key: its bytes are noise).</summary>
    public bool CloseOrReply { get; init; }

    /// <summary>The client hangs up right after sending (a truncated frame): the server must just let go.</summary>
    public bool Hangup { get; init; }

    /// <summary>An <c>authenticate</c> with the valid key: the reply must be the success reply.</summary>
    public bool Authenticates { get; init; }

    /// <summary>An <c>authenticate</c> with a key that is not valid (the per-address throttle may delay its refusal).</summary>
    public bool FailsAuthentication { get; init; }

    public bool EndsConnection => CloseCodes is not null || Hangup;
}

/// <summary>Every error code the hub may send: OpenAlgo's (spec §4.3) and the appliance's limit refusals.</summary>
internal static class FuzzCodes
{
    public static readonly HashSet<string> Known =
    [
        "INVALID_JSON", "INVALID_ACTION", "SERVER_ERROR", "AUTHENTICATION_ERROR", "BROKER_ERROR", "NOT_AUTHENTICATED",
        "INVALID_MODE", "INVALID_PARAMETERS", "LIMIT_EXCEEDED", "RATE_LIMITED",
    ];

    /// <summary>Reply types of the protocol's successful answers (spec §4.4–§4.10).</summary>
    public static readonly HashSet<string> ReplyTypes =
    [
        "auth", "subscribe", "unsubscribe", "subscribe_orders", "unsubscribe_orders", "broker_info", "supported_brokers", "pong",
    ];
}
