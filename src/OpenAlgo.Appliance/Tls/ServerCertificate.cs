using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tls;

/// <summary>A certificate ready to serve: leaf, intermediates, and the SslStream context built once for it.</summary>
internal sealed class ServerCertificate
{
    public ServerCertificate(X509Certificate2 leaf, X509Certificate2Collection intermediates)
    {
        Leaf = leaf;
        Intermediates = intermediates;
        // Built once per certificate: it carries the chain that goes on the wire to every client
        // (without a chain build through the machine's trust store: CertificateContexts says why).
        Context = CertificateContexts.Create(leaf, intermediates);
    }

    public X509Certificate2 Leaf { get; }
    public X509Certificate2Collection Intermediates { get; }
    public SslStreamCertificateContext Context { get; }

    public static ServerCertificate FromPem(string chainPem, string keyPem)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPem(chainPem);
        if (all.Count == 0) throw new InvalidDataException("no certificate found in the PEM data");
        var leaf = X509Certificate2.CreateFromPem(chainPem, keyPem);
        var intermediates = new X509Certificate2Collection();
        for (int i = 1; i < all.Count; i++) intermediates.Add(all[i]);
        return new ServerCertificate(leaf, intermediates);
    }

    public override string ToString() => $"{Leaf.Subject} (issuer {Leaf.Issuer}, expires {Leaf.NotAfter:u}, serial {Leaf.SerialNumber})";
}
