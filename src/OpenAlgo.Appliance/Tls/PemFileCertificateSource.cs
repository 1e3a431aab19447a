using System.Security.Cryptography;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// <c>Tls:Mode=Files</c>: serves <c>Tls:CertificateFile</c> (full chain) with <c>Tls:KeyFile</c>, and
/// reloads them when they change (certbot renewals, a deploy hook) — polled every 30 s. A broken
/// new pair is logged and the old certificate keeps being served.
/// </summary>
internal sealed partial class PemFileCertificateSource(
    SiteOptions options,
    CertificateHolder holder,
    TimeProvider time,
    ILogger<PemFileCertificateSource> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);
    private (DateTime, long, DateTime, long) _stamp;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _stamp = Stamp();
        holder.Set(Load());
        Log.Loaded(logger, options.Tls.CertificateFile, holder.Current.ToString());
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) ReloadIfChanged();
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal void ReloadIfChanged()
    {
        var stamp = Stamp();
        if (stamp == _stamp) return;
        try
        {
            var certificate = Load();
            _stamp = stamp;
            holder.Set(certificate);
            Log.Loaded(logger, options.Tls.CertificateFile, certificate.ToString());
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidDataException or IOException or ArgumentException)
        {
            // Often a half-finished copy; the next poll retries. The old certificate stays.
            Log.ReloadFailed(logger, options.Tls.CertificateFile, ex.Message);
            holder.ReportProblem($"certificate: {options.Tls.CertificateFile} changed but could not be loaded ({ex.Message}); serving the previous certificate");
        }
    }

    private ServerCertificate Load() => ServerCertificate.FromPem(File.ReadAllText(options.Tls.CertificateFile), File.ReadAllText(options.Tls.KeyFile));

    private (DateTime, long, DateTime, long) Stamp()
    {
        var cert = new FileInfo(options.Tls.CertificateFile);
        var key = new FileInfo(options.Tls.KeyFile);
        return (cert.Exists ? cert.LastWriteTimeUtc : default, cert.Exists ? cert.Length : -1, key.Exists ? key.LastWriteTimeUtc : default, key.Exists ? key.Length : -1);
    }

    private static partial class Log
    {
        [LoggerMessage(1310, LogLevel.Information, "Serving certificate from {Path}: {Certificate}")]
        public static partial void Loaded(ILogger logger, string path, string certificate);

        [LoggerMessage(1311, LogLevel.Error, "Certificate files {Path} changed but could not be loaded ({Reason}); still serving the previous certificate")]
        public static partial void ReloadFailed(ILogger logger, string path, string reason);
    }
}
