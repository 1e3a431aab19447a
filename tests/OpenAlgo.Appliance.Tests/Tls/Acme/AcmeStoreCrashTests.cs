using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Tests.Tls.Acme;

/// <summary>
/// A crash (kill -9, power cut) at every point of replacing the stored certificate: each state the
/// files can be left in is built and loaded, and the store finds the old pair or the new one —
/// never a new key beside the old chain (which used to fail to load: a temporary self-signed
/// certificate served until the CA issued another). The real kill -9 loop is
/// <c>CertificateWriteKillTests</c>.
/// </summary>
public sealed class AcmeStoreCrashTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oa-store-crash-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    public static TheoryData<string, bool> CrashPoints => new()
    {
        // (state left behind, whether the new certificate is the one loaded)
        { "nothing written yet", false },
        { "key temp file half written", false },
        { "key.next written", false },
        { "key.next written, chain temp file half written", false },
        { "key.next and chain.next written (committed)", true },
        { "key renamed into place, chain.next waiting", true },
        { "both renamed into place", true },
    };

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public void A_crash_at_any_point_of_a_certificate_write_leaves_the_old_pair_or_the_new_one(string point, bool expectNew)
    {
        var (oldChain, oldKey, oldSerial) = Certificate("old.test");
        var (newChain, newKey, newSerial) = Certificate("new.test");
        string before = Path.Combine(_root, "before");
        new AcmeStore(before).SaveCertificate(oldChain, oldKey);
        // The new pair as the store writes it (same key ring: a copy of the directory).
        string after = Path.Combine(_root, "after");
        Copy(before, after);
        new AcmeStore(after).SaveCertificate(newChain, newKey);
        string newKeyFile = File.ReadAllText(Path.Combine(after, "acme", "certificate.key.protected"));

        string state = Path.Combine(_root, "state");
        Copy(before, state);
        string acme = Path.Combine(state, "acme");
        string key = Path.Combine(acme, "certificate.key.protected"), chain = Path.Combine(acme, AcmeStore.ChainFileName);
        switch (point)
        {
            case "key temp file half written":
                File.WriteAllText(Path.Combine(acme, ".certificate.key.protected.next.1.0.tmp"), newKeyFile[..(newKeyFile.Length / 2)]);
                break;
            case "key.next written":
                File.WriteAllText(key + ".next", newKeyFile);
                break;
            case "key.next written, chain temp file half written":
                File.WriteAllText(key + ".next", newKeyFile);
                File.WriteAllText(Path.Combine(acme, ".certificate.pem.next.1.0.tmp"), newChain[..(newChain.Length / 2)]);
                break;
            case "key.next and chain.next written (committed)":
                File.WriteAllText(key + ".next", newKeyFile);
                File.WriteAllText(chain + ".next", newChain);
                break;
            case "key renamed into place, chain.next waiting":
                File.WriteAllText(key, newKeyFile);
                File.WriteAllText(chain + ".next", newChain);
                break;
            case "both renamed into place":
                File.WriteAllText(key, newKeyFile);
                File.WriteAllText(chain, newChain);
                break;
        }

        var loaded = new AcmeStore(state).LoadCertificate();
        Assert.NotNull(loaded);
        Assert.Equal(expectNew ? newSerial : oldSerial, loaded.Leaf.SerialNumber);
        Assert.DoesNotContain(Directory.GetFiles(acme), f => f.EndsWith(".next", StringComparison.Ordinal));
        // And the next replacement starts from a clean directory.
        var (nextChain, nextKey, nextSerial) = Certificate("next.test");
        var store = new AcmeStore(state);
        store.SaveCertificate(nextChain, nextKey);
        Assert.Equal(nextSerial, store.LoadCertificate()!.Leaf.SerialNumber);
    }

    private static (string Chain, string Key, string Serial) Certificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), certificate.SerialNumber);
    }

    private static void Copy(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }
}
