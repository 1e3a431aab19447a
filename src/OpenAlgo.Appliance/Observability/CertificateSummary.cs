using System.Net;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Observability;

/// <summary>
/// What an operator asks of a certificate — the running service's (status page, <c>status</c>) and
/// the stored one's (<c>certificates</c>, offline): names, issuer, serial, validity, where it came
/// from, when it is renewed and why, the last renewal error.
/// </summary>
internal sealed record CertificateSummary(
    TlsMode Mode,
    string Subject,
    IReadOnlyList<string> Names,
    string Issuer,
    string Serial,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string Origin,
    DateTimeOffset? RenewAt,
    RenewalReason? RenewReason,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    bool StandIn)
{
    public double DaysLeft(DateTimeOffset now) => (NotAfter - now).TotalDays;

    public static CertificateSummary From(X509Certificate2 leaf, TlsMode mode, string origin, (DateTimeOffset At, RenewalReason Reason)? renewal,
        string? lastError = null, DateTimeOffset? lastErrorAt = null, bool standIn = false)
    {
        return new CertificateSummary(mode, leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false), NamesOf(leaf),
            leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: true) is { Length: > 0 } issuer ? issuer : leaf.Issuer,
            leaf.SerialNumber, leaf.NotBefore.ToUniversalTime(), leaf.NotAfter.ToUniversalTime(), origin,
            renewal?.At, renewal?.Reason, lastError, lastErrorAt, standIn);
    }

    /// <summary>The DNS names and IP addresses of the subjectAltName extension (what browsers check).</summary>
    public static IReadOnlyList<string> NamesOf(X509Certificate2 leaf)
    {
        var names = new List<string>();
        foreach (var extension in leaf.Extensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension san) continue;
            names.AddRange(san.EnumerateDnsNames());
            foreach (IPAddress ip in san.EnumerateIPAddresses()) names.Add(ip.ToString());
        }
        return names;
    }
}
