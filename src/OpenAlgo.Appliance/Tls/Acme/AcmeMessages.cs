using System.Text.Json.Serialization;

namespace OpenAlgo.Appliance.Tls.Acme;

// RFC 8555 §7 resources, as far as the appliance reads or writes them.

internal sealed record AcmeDirectory(
    [property: JsonPropertyName("newNonce")] string NewNonce,
    [property: JsonPropertyName("newAccount")] string NewAccount,
    [property: JsonPropertyName("newOrder")] string NewOrder,
    [property: JsonPropertyName("renewalInfo")] string? RenewalInfo);

internal sealed record AcmeNewAccount(
    [property: JsonPropertyName("termsOfServiceAgreed")] bool TermsOfServiceAgreed,
    [property: JsonPropertyName("contact"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Contact,
    [property: JsonPropertyName("externalAccountBinding"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AcmeJws? ExternalAccountBinding = null);

/// <summary>A flattened JWS (RFC 7515 §7.2.2), here the external account binding.</summary>
internal sealed record AcmeJws(
    [property: JsonPropertyName("protected")] string Protected,
    [property: JsonPropertyName("payload")] string Payload,
    [property: JsonPropertyName("signature")] string Signature);

internal sealed record AcmeIdentifier(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] string Value);

internal sealed record AcmeNewOrder(
    [property: JsonPropertyName("identifiers")] AcmeIdentifier[] Identifiers,
    [property: JsonPropertyName("replaces"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Replaces);

internal sealed record AcmeOrder(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("authorizations")] string[]? Authorizations,
    [property: JsonPropertyName("finalize")] string? Finalize,
    [property: JsonPropertyName("certificate")] string? Certificate,
    [property: JsonPropertyName("error")] AcmeProblem? Error);

internal sealed record AcmeAuthorization(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("identifier")] AcmeIdentifier Identifier,
    [property: JsonPropertyName("challenges")] AcmeChallenge[] Challenges);

internal sealed record AcmeChallenge(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("error")] AcmeProblem? Error);

internal sealed record AcmeFinalize(
    [property: JsonPropertyName("csr")] string Csr);

internal sealed record AcmeProblem(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("status")] int? Status);

internal sealed record AcmeRenewalInfo(
    [property: JsonPropertyName("suggestedWindow")] AcmeWindow SuggestedWindow);

internal sealed record AcmeWindow(
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset End);

/// <summary>Source-generated (native AOT) JSON for the ACME resources.</summary>
[JsonSerializable(typeof(AcmeDirectory))]
[JsonSerializable(typeof(AcmeNewAccount))]
[JsonSerializable(typeof(AcmeNewOrder))]
[JsonSerializable(typeof(AcmeOrder))]
[JsonSerializable(typeof(AcmeAuthorization))]
[JsonSerializable(typeof(AcmeFinalize))]
[JsonSerializable(typeof(AcmeProblem))]
[JsonSerializable(typeof(AcmeRenewalInfo))]
[JsonSerializable(typeof(RenewalWindow))]
internal sealed partial class AcmeJsonContext : JsonSerializerContext;

/// <summary>An ACME error document (RFC 8555 §6.7), with the HTTP status and any Retry-After.</summary>
internal sealed class AcmeException(string type, string detail, int status, TimeSpan? retryAfter = null)
    : Exception($"{type}: {detail} (HTTP {status})")
{
    public string Type { get; } = type;
    public string Detail { get; } = detail;
    public int Status { get; } = status;
    public TimeSpan? RetryAfter { get; } = retryAfter;
    public bool IsBadNonce => Type.EndsWith(":badNonce", StringComparison.Ordinal);
}
