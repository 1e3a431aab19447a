using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// The appliance as an ACME client of a test CA (Pebble, or a stand-in in front of it): HTTP-01 on
/// the port the CA validates against, HTTPS on the port it would check TLS-ALPN-01 on, terms accepted.
/// One place for the setup every ACME test shares; a test changes what it is about afterwards.
/// </summary>
internal static class AcmeTestOptions
{
    public static void UseTestCa(this ApplianceOptions o, string stateDirectory, int http, int https, string directoryUrl, string? trustedRootsFile, params string[] domains)
    {
        o.StateDirectory = stateDirectory;
        o.Listen.Http = $"127.0.0.1:{http}";
        o.Listen.Https = $"127.0.0.1:{https}";
        o.Tls.Mode = TlsMode.Acme;
        o.Tls.Domains = [.. domains];
        o.Tls.Acme.DirectoryUrl = directoryUrl;
        if (trustedRootsFile is not null) o.Tls.Acme.TrustedRootsFile = trustedRootsFile;
        o.Tls.Acme.AcceptTermsOfService = true;
        o.Tls.Acme.ChallengeTypes = "Http01";
    }
}
