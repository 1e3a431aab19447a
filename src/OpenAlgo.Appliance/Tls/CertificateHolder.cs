namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// The certificate the HTTPS listener serves right now. Swapped atomically; handshakes in flight
/// keep the one they started with, new handshakes get the new one — no restart.
/// </summary>
internal sealed class CertificateHolder
{
    private ServerCertificate? _current;

    public ServerCertificate Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("no certificate loaded yet");
    public bool HasCertificate => Volatile.Read(ref _current) is not null;

    /// <summary>A new certificate is being served.</summary>
    public event Action<ServerCertificate>? Changed;

    /// <summary>The source could not do its job (an ACME attempt failed, changed files are unreadable); the current certificate stays.</summary>
    public event Action<string>? Problem;

    public void Set(ServerCertificate certificate)
    {
        Volatile.Write(ref _current, certificate);
        Changed?.Invoke(certificate);
    }

    public void ReportProblem(string problem) => Problem?.Invoke(problem);
}
