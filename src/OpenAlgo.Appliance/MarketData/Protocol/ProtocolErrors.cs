namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>OpenAlgo's error codes and texts (spec §4.3), plus the appliance's own limit refusals.</summary>
internal static class ProtocolErrors
{
    public const string InvalidJson = "INVALID_JSON";
    public const string InvalidAction = "INVALID_ACTION";
    public const string ServerError = "SERVER_ERROR";
    public const string AuthenticationError = "AUTHENTICATION_ERROR";
    public const string BrokerError = "BROKER_ERROR";
    public const string NotAuthenticated = "NOT_AUTHENTICATED";
    public const string InvalidMode = "INVALID_MODE";
    public const string InvalidParameters = "INVALID_PARAMETERS";

    /// <summary>Appliance-only: a connection limit refused this client.</summary>
    public const string LimitExceeded = "LIMIT_EXCEEDED";

    /// <summary>Appliance-only: the client sends faster than <c>Limits:MaxMessagesPerSecond</c>.</summary>
    public const string RateLimited = "RATE_LIMITED";

    public const string InvalidJsonMessage = "Invalid JSON message";
    public const string ApiKeyRequired = "API key is required";
    public const string InvalidApiKey = "Invalid API key";
    public const string NoBrokerConfiguration = "No broker configuration found for user";
    public const string MustAuthenticate = "You must authenticate first";
    public const string AdapterNotFound = "Broker adapter not found";
    public const string BrokerInfoUnavailable = "Broker information not available";
    public const string NoSymbols = "At least one symbol must be specified";
    public const string NothingToUnsubscribe = "Either symbols or unsubscribe_all is required";
}

/// <summary>
/// A Python exception that would escape OpenAlgo's handler; it becomes a SERVER_ERROR envelope
/// carrying <c>str(exception)</c>, e.g. <c>'list' object has no attribute 'get'</c>.
/// </summary>
internal sealed class PythonError(string message) : Exception(message)
{
    public static PythonError NoAttribute(PyValue value, string attribute) => new($"'{value.TypeName}' object has no attribute '{attribute}'");
    public static PythonError NotIterable(PyValue value) => new($"'{value.TypeName}' object is not iterable");
}
