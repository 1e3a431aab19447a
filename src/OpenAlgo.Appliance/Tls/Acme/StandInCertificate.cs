using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// The self-signed certificate served in Acme mode until the first issuance succeeds. Its subject
/// says so, so that <c>verify</c> (from anywhere) can tell "issuance has not succeeded" apart from
/// an operator's own self-signed certificate.
/// </summary>
internal static class StandInCertificate
{
    public const string Organization = "OpenAlgo Appliance temporary certificate - waiting for ACME";

    /// <summary>Created this long before its NotBefore (clock skew allowance).</summary>
    public static readonly TimeSpan Backdating = TimeSpan.FromMinutes(5);

    /// <summary>How the service logs a failed attempt (AcmeCertificateService, event 1715): what verify looks for.</summary>
    public const string FailureLogMarker = "ACME: attempt ";

    public static bool Is(X509Certificate2 certificate) =>
        certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Any(rdn => rdn.GetSingleElementType().Value == "2.5.4.10" && rdn.GetSingleElementValue() == Organization);
}
