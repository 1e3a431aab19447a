using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Tests.TestSupport;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Tests.Tls;

/// <summary>
/// Served certificates get their context without a chain build through the machine's trust store (60–90 ms of
/// startup), and the chain on the wire is the one the runtime's chain build would have sent.
/// </summary>
public sealed class CertificateContextsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void A_self_signed_certificate_gets_its_context_directly_and_sends_no_intermediate()
    {
        using var leaf = SelfSigned("CN=localhost");
        var context = CertificateContexts.Create(leaf, null, out bool direct);
        Assert.True(direct, "the runtime's constructor taking the intermediates did not bind: every start reads the trust store again");
        Assert.Same(leaf, context.TargetCertificate);
        Assert.Empty(context.IntermediateCertificates);
    }

    [Fact]
    public void Intermediates_are_ordered_from_the_leaf_and_the_root_and_strangers_are_left_out()
    {
        var (root, rootKey) = Ca("CN=Test Root", null, null);
        var (intermediate, intermediateKey) = Ca("CN=Test Intermediate", root, rootKey);
        var (second, secondKey) = Ca("CN=Test Issuing CA", intermediate, intermediateKey);
        var stranger = Ca("CN=Someone Else", null, null).Certificate;
        var leaf = Leaf("CN=shop.example", second, secondKey);

        // As a chain file may hold them: root first, a certificate of another chain, the issuing CA last.
        var file = new X509Certificate2Collection { root, stranger, intermediate, second };
        var context = CertificateContexts.Create(leaf, file, out bool direct);

        Assert.True(direct);
        Assert.Equal([second.Thumbprint, intermediate.Thumbprint], context.IntermediateCertificates.Select(c => c.Thumbprint));
        // What the runtime's own chain build (through the trust store) sends for the same file.
        var runtime = SslStreamCertificateContext.Create(leaf, file, offline: true);
        Assert.Equal(runtime.IntermediateCertificates.Select(c => c.Thumbprint), context.IntermediateCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void A_re_keyed_issuer_under_the_same_name_is_told_apart_by_its_key_identifier()
    {
        var (root, rootKey) = Ca("CN=Test Root", null, null);
        var (oldCa, _) = Ca("CN=Test Issuing CA", root, rootKey);
        var (newCa, newKey) = Ca("CN=Test Issuing CA", root, rootKey);
        var leaf = Leaf("CN=shop.example", newCa, newKey);

        var context = CertificateContexts.Create(leaf, [oldCa, newCa, root], out _);

        Assert.Equal([newCa.Thumbprint], context.IntermediateCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void A_certificate_naming_an_OCSP_responder_keeps_the_runtimes_path_which_staples()
    {
        var (root, rootKey) = Ca("CN=Test Root", null, null);
        var leaf = Leaf("CN=shop.example", root, rootKey, ocsp: "http://ocsp.example.test");

        var context = CertificateContexts.Create(leaf, [root], out bool direct);

        Assert.False(direct);
        Assert.Same(leaf, context.TargetCertificate);
    }

    [Fact]
    public async Task A_client_receives_the_leaf_and_the_ordered_intermediates_in_the_handshake()
    {
        var (root, rootKey) = Ca("CN=Test Root", null, null);
        var (intermediate, intermediateKey) = Ca("CN=Test Intermediate", root, rootKey);
        var leaf = Leaf("CN=localhost", intermediate, intermediateKey);
        var context = CertificateContexts.Create(leaf, [root, intermediate]);

        string[]? received = null;
        await using var pair = await TlsPair.HandshakeAsync(context, (_, certificate, chain, _) =>
        {
            received = [certificate!.GetCertHashString(), .. chain!.ChainPolicy.ExtraStore.Select(c => c.Thumbprint)];
            return true;
        });

        Assert.NotNull(received);
        Assert.Equal(leaf.Thumbprint, received[0]);
        Assert.Contains(intermediate.Thumbprint, received);
        Assert.DoesNotContain(root.Thumbprint, received);
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(Now.AddDays(-1), Now.AddDays(1));
    }

    private static (X509Certificate2 Certificate, ECDsa Key) Ca(string subject, X509Certificate2? issuer, ECDsa? issuerKey)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null) return (request.CreateSelfSigned(Now.AddDays(-2), Now.AddDays(30)), key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey!), Now.AddDays(-2), Now.AddDays(30), RandomNumberGenerator.GetBytes(8));
        return (issued.CopyWithPrivateKey(key), key);
    }

    private static X509Certificate2 Leaf(string subject, X509Certificate2 issuer, ECDsa issuerKey, string? ocsp = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(subject[3..]);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (ocsp is not null) request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocsp], null));
        using var issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), Now.AddDays(-1), Now.AddDays(10), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }
}
