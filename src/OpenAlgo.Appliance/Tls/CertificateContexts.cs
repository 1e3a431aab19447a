using System.Collections.ObjectModel;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// Builds the <see cref="SslStreamCertificateContext"/> a served certificate needs without reading the machine's
/// trust store.
/// </summary>
/// <remarks>
/// <see cref="SslStreamCertificateContext.Create(X509Certificate2, X509Certificate2Collection?, bool, SslCertificateTrust?)"/>
/// builds an <see cref="X509Chain"/> only to learn which intermediates to send, and the first chain a process
/// builds parses every certificate under /etc/ssl/certs (147 files here, through OpenSSL 3's decoders):
/// 60–90 ms of CPU on the way to READY, more than the rest of the demo's startup together (exec → READY
/// 108–148 ms with it, 46–70 ms with an empty trust store, quiet machine, 5 runs each; docs/benchmarks.md).
/// A server never needs the trust store to serve its own chain — nginx sends the file's certificates as they
/// are — so the intermediates are ordered here from the chain file alone (issuer by issuer from the leaf, a
/// self-signed root left out, as the chain build would) and the context is made by the runtime's own
/// constructor that takes them. Two cases keep the public path: a certificate naming an OCSP responder (the
/// runtime staples only when its chain build found the root), and a runtime without that constructor
/// (<see cref="MissingMethodException"/>: native AOT binds it at compile time; a test pins that it binds).
/// </remarks>
internal static class CertificateContexts
{
    /// <summary>The context for <paramref name="leaf"/> (with its private key) and the chain file's other certificates.</summary>
    public static SslStreamCertificateContext Create(X509Certificate2 leaf, X509Certificate2Collection? chain) => Create(leaf, chain, out _);

    /// <param name="direct">Whether the context was made without a chain build (for the test that pins it).</param>
    internal static SslStreamCertificateContext Create(X509Certificate2 leaf, X509Certificate2Collection? chain, out bool direct)
    {
        direct = false;
        if (!leaf.HasPrivateKey || NamesOcspResponder(leaf))
        {
            return SslStreamCertificateContext.Create(leaf, chain, offline: true);
        }
        var intermediates = new ReadOnlyCollection<X509Certificate2>(OrderFromLeaf(leaf, chain));
        try
        {
            var context = NewContext(leaf, intermediates, trust: null);
            direct = true;
            return context;
        }
        catch (MissingMethodException)
        {
            return SslStreamCertificateContext.Create(leaf, chain, offline: true);
        }
    }

    /// <summary>
    /// The certificates to send after the leaf: from the leaf, each certificate's issuer found among
    /// <paramref name="chain"/>, until a self-issued root (not sent: the client has it or does not trust it) or an
    /// issuer the file does not hold; certificates off that path are not sent either — what the runtime's chain
    /// build sends. An issuer is matched as OpenSSL picks candidates: subject name equal to the issuer name and,
    /// when both carry them, the subject key identifier equal to the authority key identifier (a CA re-keyed
    /// under the same name). Signatures are the client's to check, as with nginx.
    /// </summary>
    internal static X509Certificate2[] OrderFromLeaf(X509Certificate2 leaf, X509Certificate2Collection? chain)
    {
        if (chain is null || chain.Count == 0 || Issued(leaf, leaf)) return [];
        var ordered = new List<X509Certificate2>(chain.Count);
        var current = leaf;
        while (ordered.Count < chain.Count)
        {
            X509Certificate2? issuer = null;
            foreach (var candidate in chain)
            {
                if (!ordered.Contains(candidate) && Issued(candidate, current))
                {
                    issuer = candidate;
                    break;
                }
            }
            if (issuer is null || Issued(issuer, issuer)) break;
            ordered.Add(issuer);
            current = issuer;
        }
        return [.. ordered];
    }

    private static bool Issued(X509Certificate2 issuer, X509Certificate2 subject)
    {
        if (!issuer.SubjectName.RawData.AsSpan().SequenceEqual(subject.IssuerName.RawData)) return false;
        var authorityKey = subject.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier;
        var subjectKey = issuer.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes;
        return authorityKey is not { } a || subjectKey is not { } s || a.Span.SequenceEqual(s.Span);
    }

    private static bool NamesOcspResponder(X509Certificate2 leaf)
    {
        foreach (var extension in leaf.Extensions)
        {
            if (extension is X509AuthorityInformationAccessExtension aia)
            {
                foreach (var _ in aia.EnumerateOcspUris()) return true;
            }
        }
        return false;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    private static extern SslStreamCertificateContext NewContext(X509Certificate2 target, ReadOnlyCollection<X509Certificate2> intermediates, SslCertificateTrust? trust);
}
