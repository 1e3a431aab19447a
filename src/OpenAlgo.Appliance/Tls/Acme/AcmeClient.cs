using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// An RFC 8555 client: flattened JWS with ES256, <c>jwk</c> only for newAccount and <c>kid</c>
/// after, one nonce per request, badNonce retried with the nonce from the error, POST-as-GET with an
/// empty payload, <c>Retry-After</c> honoured while polling.
/// </summary>
internal sealed class AcmeClient(HttpClient http, Uri directoryUrl, AcmeAccountKey key, TimeProvider time)
{
    private const int BadNonceRetries = 10;
    private AcmeDirectory? _directory;
    private string? _nonce;

    public string? AccountUrl { get; set; }
    public AcmeAccountKey Key => key;

    public async Task<AcmeDirectory> DirectoryAsync(CancellationToken ct)
    {
        if (_directory is not null) return _directory;
        using var response = await http.GetAsync(directoryUrl, ct);
        await EnsureSuccessAsync(response, ct);
        _directory = await response.Content.ReadFromJsonAsync(AcmeJsonContext.Default.AcmeDirectory, ct)
            ?? throw new InvalidDataException("empty ACME directory");
        return _directory;
    }

    /// <summary>Creates (or finds, for a known key) the account; sets <see cref="AccountUrl"/>.</summary>
    public async Task<string> RegisterAsync(string? email, bool termsAgreed, CancellationToken ct, string? eabKeyId = null, string? eabHmacKey = null)
    {
        var directory = await DirectoryAsync(ct);
        AcmeJws? binding = null;
        if (!string.IsNullOrEmpty(eabKeyId) && !string.IsNullOrEmpty(eabHmacKey))
        {
            // RFC 8555 §7.3.4: the account JWK, signed HS256 with the CA-issued MAC key, for the newAccount URL.
            string header = Base64Url.Encode(Encoding.UTF8.GetBytes($"{{\"alg\":\"HS256\",\"kid\":{JsonString(eabKeyId)},\"url\":{JsonString(directory.NewAccount)}}}"));
            string jwk = Base64Url.Encode(Encoding.UTF8.GetBytes(key.Jwk));
            string mac = Base64Url.Encode(System.Security.Cryptography.HMACSHA256.HashData(Base64Url.Decode(eabHmacKey), Encoding.ASCII.GetBytes(header + "." + jwk)));
            binding = new AcmeJws(header, jwk, mac);
        }
        var payload = JsonSerializer.SerializeToUtf8Bytes(new AcmeNewAccount(termsAgreed, email is { Length: > 0 } ? [$"mailto:{email}"] : null, binding), AcmeJsonContext.Default.AcmeNewAccount);
        using var response = await PostAsync(directory.NewAccount, payload, useJwk: true, ct);
        AccountUrl = response.Headers.Location?.ToString() ?? throw new InvalidDataException("newAccount answered without Location");
        return AccountUrl;
    }

    public async Task<(string Url, AcmeOrder Order)> NewOrderAsync(IEnumerable<string> names, string? replaces, CancellationToken ct)
    {
        var directory = await DirectoryAsync(ct);
        var payload = JsonSerializer.SerializeToUtf8Bytes(new AcmeNewOrder([.. names.Select(n => new AcmeIdentifier("dns", n))], replaces), AcmeJsonContext.Default.AcmeNewOrder);
        using var response = await PostAsync(directory.NewOrder, payload, useJwk: false, ct);
        string url = response.Headers.Location?.ToString() ?? throw new InvalidDataException("newOrder answered without Location");
        return (url, await ReadAsync(response, AcmeJsonContext.Default.AcmeOrder, ct));
    }

    public async Task<T> GetAsync<T>(string url, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await PostAsync(url, [], useJwk: false, ct);
        return await ReadAsync(response, type, ct);
    }

    /// <summary>POST-as-GET that also returns the Retry-After the server asked for.</summary>
    public async Task<(T Value, TimeSpan? RetryAfter)> PollAsync<T>(string url, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await PostAsync(url, [], useJwk: false, ct);
        return (await ReadAsync(response, type, ct), RetryAfter(response));
    }

    public async Task TriggerChallengeAsync(string url, CancellationToken ct)
    {
        // The trigger carries "{}"; an empty payload would be a POST-as-GET and trigger nothing.
        using var response = await PostAsync(url, "{}"u8.ToArray(), useJwk: false, ct);
    }

    public async Task<AcmeOrder> FinalizeAsync(string finalizeUrl, byte[] csrDer, CancellationToken ct)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new AcmeFinalize(Base64Url.Encode(csrDer)), AcmeJsonContext.Default.AcmeFinalize);
        using var response = await PostAsync(finalizeUrl, payload, useJwk: false, ct);
        return await ReadAsync(response, AcmeJsonContext.Default.AcmeOrder, ct);
    }

    public async Task<string> DownloadChainAsync(string certificateUrl, CancellationToken ct)
    {
        using var response = await PostAsync(certificateUrl, [], useJwk: false, ct, accept: "application/pem-certificate-chain");
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>RFC 9773: unauthenticated GET of the suggested renewal window.</summary>
    public async Task<(AcmeRenewalInfo Info, TimeSpan? RetryAfter)?> RenewalInfoAsync(string certId, CancellationToken ct)
    {
        var directory = await DirectoryAsync(ct);
        if (directory.RenewalInfo is null) return null;
        using var response = await http.GetAsync(directory.RenewalInfo.TrimEnd('/') + "/" + certId, ct);
        if (!response.IsSuccessStatusCode) return null;
        var info = await response.Content.ReadFromJsonAsync(AcmeJsonContext.Default.AcmeRenewalInfo, ct);
        return info is null ? null : (info, RetryAfter(response));
    }

    private async Task<HttpResponseMessage> PostAsync(string url, byte[] payload, bool useJwk, CancellationToken ct, string? accept = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            string nonce = await NonceAsync(ct);
            string header = useJwk
                ? $"{{\"alg\":\"ES256\",\"jwk\":{key.Jwk},\"nonce\":{JsonString(nonce)},\"url\":{JsonString(url)}}}"
                : $"{{\"alg\":\"ES256\",\"kid\":{JsonString(AccountUrl ?? throw new InvalidOperationException("no ACME account yet"))},\"nonce\":{JsonString(nonce)},\"url\":{JsonString(url)}}}";
            string protectedPart = Base64Url.Encode(Encoding.UTF8.GetBytes(header));
            string payloadPart = Base64Url.Encode(payload);
            string signature = Base64Url.Encode(key.Sign(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart)));
            var body = new StringContent($"{{\"protected\":\"{protectedPart}\",\"payload\":\"{payloadPart}\",\"signature\":\"{signature}\"}}");
            body.Headers.ContentType = new MediaTypeHeaderValue("application/jose+json");
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = body };
            if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            var response = await http.SendAsync(request, ct);
            Remember(response);
            if (response.IsSuccessStatusCode) return response;
            try
            {
                await EnsureSuccessAsync(response, ct);
            }
            catch (AcmeException ex) when (ex.IsBadNonce && attempt < BadNonceRetries)
            {
                // RFC 8555 §6.5: retry with the fresh nonce the error response carried.
                response.Dispose();
                continue;
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }
    }

    private async Task<string> NonceAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _nonce, null) is { } saved) return saved;
        var directory = await DirectoryAsync(ct);
        using var request = new HttpRequestMessage(HttpMethod.Head, directory.NewNonce);
        using var response = await http.SendAsync(request, ct);
        return response.Headers.TryGetValues("Replay-Nonce", out var values) ? values.First() : throw new InvalidDataException("newNonce answered without Replay-Nonce");
    }

    private void Remember(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Replay-Nonce", out var values)) _nonce = values.First();
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter;
        if (retry?.Delta is { } delta) return delta;
        if (retry?.Date is { } date) return date - time.GetUtcNow();
        return null;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct) =>
        await response.Content.ReadFromJsonAsync(type, ct) ?? throw new InvalidDataException($"empty {typeof(T).Name}");

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        AcmeProblem? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync(AcmeJsonContext.Default.AcmeProblem, ct);
        }
        catch (JsonException)
        {
        }
        throw new AcmeException(problem?.Type ?? "about:blank", problem?.Detail ?? response.ReasonPhrase ?? "", (int)response.StatusCode, RetryAfter(response));
    }

    private static string JsonString(string value) => JsonSerializer.Serialize(value, AcmeStringContext.Default.String);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class AcmeStringContext : System.Text.Json.Serialization.JsonSerializerContext;
