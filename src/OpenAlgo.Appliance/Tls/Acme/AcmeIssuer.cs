using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// One issuance: order for all names, answer each authorization with the first enabled challenge
/// type it offers, finalize with a CSR for a fresh P-256 key, download the full chain.
/// </summary>
internal sealed partial class AcmeIssuer(AcmeClient client, AcmeChallengeResponder responder, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan ValidationTimeout = TimeSpan.FromMinutes(3);

    public async Task<(string ChainPem, string KeyPem)> IssueAsync(IReadOnlyList<string> names, IReadOnlyList<string> challengeTypes, string? replaces, CancellationToken ct)
    {
        var (orderUrl, order) = await client.NewOrderAsync(names, replaces, ct);
        Log.Ordered(logger, string.Join(", ", names), orderUrl);
        foreach (var authorizationUrl in order.Authorizations ?? [])
        {
            await AuthorizeAsync(authorizationUrl, challengeTypes, ct);
        }

        order = await WaitForOrderAsync(orderUrl, "ready", ct);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names) san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        try
        {
            order = await client.FinalizeAsync(order.Finalize!, request.CreateSigningRequest(), ct);
        }
        catch (AcmeException ex) when (ex.Type.EndsWith(":orderNotReady", StringComparison.Ordinal))
        {
            order = await WaitForOrderAsync(orderUrl, "ready", ct);
            order = await client.FinalizeAsync(order.Finalize!, request.CreateSigningRequest(), ct);
        }
        if (order.Status != "valid") order = await WaitForOrderAsync(orderUrl, "valid", ct);
        string chain = await client.DownloadChainAsync(order.Certificate!, ct);
        return (chain, key.ExportPkcs8PrivateKeyPem());
    }

    private async Task AuthorizeAsync(string url, IReadOnlyList<string> challengeTypes, CancellationToken ct)
    {
        var authorization = await client.GetAsync(url, AcmeJsonContext.Default.AcmeAuthorization, ct);
        if (authorization.Status == "valid") return; // reused authorization
        string name = authorization.Identifier.Value;
        var challenge = challengeTypes
            .Select(type => authorization.Challenges.FirstOrDefault(c => c.Type == type))
            .FirstOrDefault(c => c is not null)
            ?? throw new AcmeException("urn:openalgo-appliance:noChallenge", $"{name}: the CA offered {string.Join(", ", authorization.Challenges.Select(c => c.Type))}, none enabled in Tls:Acme:ChallengeTypes", 0);
        string keyAuthorization = client.Key.KeyAuthorization(challenge.Token!);
        if (challenge.Type == "http-01") responder.AddHttp01(challenge.Token!, keyAuthorization);
        else responder.AddTlsAlpn01(name, keyAuthorization);
        try
        {
            await client.TriggerChallengeAsync(challenge.Url, ct);
            var deadline = time.GetTimestamp();
            while (true)
            {
                var (current, retryAfter) = await client.PollAsync(url, AcmeJsonContext.Default.AcmeAuthorization, ct);
                if (current.Status == "valid")
                {
                    Log.Validated(logger, name, challenge.Type);
                    return;
                }
                if (current.Status is "invalid" or "deactivated" or "expired" or "revoked")
                {
                    var error = current.Challenges.FirstOrDefault(c => c.Url == challenge.Url)?.Error;
                    throw new AcmeException(error?.Type ?? "urn:ietf:params:acme:error:unauthorized", $"{name} ({challenge.Type}): {error?.Detail ?? current.Status}", error?.Status ?? 403);
                }
                if (time.GetElapsedTime(deadline) > ValidationTimeout) throw new TimeoutException($"{name}: validation still {current.Status} after {ValidationTimeout}");
                await Task.Delay(Clamp(retryAfter), time, ct);
            }
        }
        finally
        {
            if (challenge.Type == "http-01") responder.RemoveHttp01(challenge.Token!);
            else responder.RemoveTlsAlpn01(name);
        }
    }

    private async Task<AcmeOrder> WaitForOrderAsync(string url, string wanted, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var (order, retryAfter) = await client.PollAsync(url, AcmeJsonContext.Default.AcmeOrder, ct);
            if (order.Status == wanted || (wanted == "ready" && order.Status is "processing" or "valid")) return order;
            if (order.Status == "invalid") throw new AcmeException(order.Error?.Type ?? "urn:ietf:params:acme:error:orderInvalid", order.Error?.Detail ?? "order became invalid", order.Error?.Status ?? 403);
            if (time.GetElapsedTime(started) > ValidationTimeout) throw new TimeoutException($"order still {order.Status} after {ValidationTimeout}");
            await Task.Delay(Clamp(retryAfter), time, ct);
        }
    }

    // Honour Retry-After, within reason: at least 250 ms, at most a minute.
    private static TimeSpan Clamp(TimeSpan? retryAfter) =>
        retryAfter is { } r ? TimeSpan.FromMilliseconds(Math.Clamp(r.TotalMilliseconds, 250, 60_000)) : TimeSpan.FromMilliseconds(500);

    private static partial class Log
    {
        [LoggerMessage(1700, LogLevel.Information, "ACME: ordered a certificate for {Names} ({OrderUrl})")]
        public static partial void Ordered(ILogger logger, string names, string orderUrl);

        [LoggerMessage(1701, LogLevel.Information, "ACME: {Name} validated with {Challenge}")]
        public static partial void Validated(ILogger logger, string name, string challenge);
    }
}
