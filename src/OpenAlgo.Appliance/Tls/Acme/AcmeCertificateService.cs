using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Sites;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// <c>Tls:Mode=Acme</c>: keeps a CA-issued certificate for <c>Tls:Domains</c> in service. At start
/// it serves the stored certificate (a restart orders nothing) or, until the first issuance
/// succeeds, a self-signed stand-in so the process is up and the listeners answer. It looks every
/// <c>Tls:Acme:RenewCheckInterval</c> and also wakes at the renewal point itself (2/3 of the lifetime,
/// or a random moment inside the CA's ARI window, kept across restarts), so a renewal is never late
/// by up to a period and a certificate shorter than the period is still renewed in time. It keeps
/// serving the old certificate until the new one is in hand, and on failure backs off 1 min, 10 min,
/// 100 min, then daily — forever, because giving up is how certificates expire.
/// </summary>
internal sealed partial class AcmeCertificateService(
    ApplianceOptions options,
    SiteOptions site,
    SiteStorage storage,
    AcmeAccountLock account,
    CertificateHolder holder,
    AcmeChallengeResponder responder,
    AcmeSchedule schedule,
    TimeProvider time,
    ILogger<AcmeCertificateService> logger) : BackgroundService
{
    /// <summary>The certificate of a configuration without Sites (its one site, <c>default</c>).</summary>
    public AcmeCertificateService(ApplianceOptions options, CertificateHolder holder, AcmeChallengeResponder responder, AcmeSchedule schedule, TimeProvider time, ILogger<AcmeCertificateService> logger)
        : this(options, options.EffectiveSites[0], SiteStorage.For(options.StateDirectory, options.EffectiveSites[0]), new AcmeAccountLock(), holder, responder, schedule, time, logger)
    {
    }

    /// <summary>
    /// The shortest sleep between two looks. A certificate that is due the moment it arrives (a CA
    /// clock far ahead of ours) is then re-ordered once a second at most, not in a tight loop.
    /// </summary>
    private static readonly TimeSpan MinimumWait = TimeSpan.FromSeconds(1);

    /// <summary>The longest Retry-After honoured (the backoff's own longest wait).</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(1);

    private AcmeStore? _store;
    private ServerCertificate? _issued;

    /// <summary>An issued certificate served from memory because the state directory refused it (full, read-only): saved at the next look.</summary>
    private (string Chain, string Key)? _unsaved;

    /// <summary>Issuances in a row whose certificate was due at once (the clock disagreeing with the CA).</summary>
    private int _clockSuspect;
    private int _failures;
    private RenewalWindow? _window;
    private DateTimeOffset? _nextCheck;
    private readonly Lock _gate = new();
    private long _failuresTotal;
    private (string Message, DateTimeOffset At)? _lastError;

    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Every failed attempt since the start (the meters' <c>acme_failures_total</c>).</summary>
    public long FailuresTotal => Interlocked.Read(ref _failuresTotal);

    /// <summary>The last failure's message and time; cleared by a success.</summary>
    public (string Message, DateTimeOffset At)? LastError => _lastError;

    /// <summary>The served certificate came from <c>import-certificate</c> rather than this appliance's own order.</summary>
    public bool IsImported => _store?.IsImported == true;

    /// <summary>When the issued certificate will be renewed and why (null while none is issued).</summary>
    public (DateTimeOffset At, RenewalReason Reason)? NextRenewal
    {
        get
        {
            var current = Issued;
            if (current is null) return null;
            return RenewalPolicy.Plan(current.Leaf.NotBefore.ToUniversalTime(), current.Leaf.NotAfter.ToUniversalTime(), WindowFor(current)?.Chosen);
        }
    }
    public ServerCertificate? Issued => Volatile.Read(ref _issued);

    /// <summary>The CA's ARI window for the served certificate and the moment chosen in it, if the CA offers ARI.</summary>
    public RenewalWindow? Window => Issued is { } c ? WindowFor(c) : null;

    /// <summary>When the served certificate will be renewed (null until one is issued).</summary>
    public DateTimeOffset? RenewAt => Issued is { } c ? RenewalPoint(c) : null;

    /// <summary>When the loop wakes next (null while it is working).</summary>
    public DateTimeOffset? NextCheck
    {
        get { lock (_gate) return _nextCheck; }
    }

    private IReadOnlyList<string> Names => site.Tls.Domains;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _store = new AcmeStore(storage);
        ServerCertificate? expired = null;
        try
        {
            var stored = _store.LoadCertificate();
            if (stored is null || !Covers(stored))
            {
                // Nothing usable stored: the fallback below until the first issuance.
            }
            else if (stored.Leaf.NotAfter.ToUniversalTime() <= time.GetUtcNow().UtcDateTime)
            {
                expired = stored;
            }
            else
            {
                _issued = stored;
                holder.Set(stored);
                Log.Reused(logger, stored.ToString());
                // The moment chosen in the CA's window before the restart still holds.
                if (_store.LoadRenewalWindow() is { } window && window.Serial == stored.Leaf.SerialNumber) _window = window;
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or InvalidDataException or ArgumentException or FormatException)
        {
            Log.Corrupt(logger, _store.Directory, ex.Message);
        }
        if (!holder.HasCertificate)
        {
            holder.Set(Fallback());
            // An expired stored certificate is not "the first": say which one and since when (a
            // service stopped past its certificate's end, or a clock far ahead).
            if (expired is not null) Log.FallbackExpired(logger, expired.ToString(), expired.Leaf.NotAfter.ToUniversalTime(), string.Join(", ", Names));
            else Log.Fallback(logger, string.Join(", ", Names));
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            SetNextCheck(null);
            if (_unsaved is { } unsaved) TrySave(unsaved.Chain, unsaved.Key);
            var current = Issued;
            if (current is not null) await RefreshRenewalInfoAsync(current, stoppingToken);
            TimeSpan wait;
            if (current is null || NeedsRenewal(current))
            {
                try
                {
                    await IssueAsync(current, stoppingToken);
                    Volatile.Write(ref _failures, 0);
                    var fresh = Issued!;
                    if (time.GetUtcNow() >= RenewalPoint(fresh))
                    {
                        // Due the moment it was issued: the system clock disagrees with the CA's (a year
                        // ahead, say). Ordering again at once would only get another such certificate,
                        // once a second, until the CA's rate limit: wait as after a failure, and say why.
                        wait = schedule.Backoff(++_clockSuspect);
                        Log.ClockSuspect(logger, time.GetUtcNow(), fresh.Leaf.NotBefore.ToUniversalTime(), fresh.Leaf.NotAfter.ToUniversalTime(), wait);
                        holder.ReportProblem($"certificate: the system clock ({time.GetUtcNow():u}) is outside the new certificate's validity ({fresh.Leaf.NotBefore.ToUniversalTime():u} to {fresh.Leaf.NotAfter.ToUniversalTime():u}); check the time (timedatectl); next order in {wait}");
                    }
                    else
                    {
                        _clockSuspect = 0;
                        wait = UntilNextCheck(fresh);
                    }
                    _lastError = null;
                    WriteStatus();
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    int failures = Interlocked.Increment(ref _failures);
                    Interlocked.Increment(ref _failuresTotal);
                    _lastError = (ex.Message, time.GetUtcNow());
                    WriteStatus();
                    wait = schedule.Backoff(failures);
                    // Near expiry the daily retry would be too slow: keep trying every minute.
                    if (current is not null && current.Leaf.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime < (current.Leaf.NotAfter - current.Leaf.NotBefore) / 20)
                    {
                        wait = TimeSpan.FromMinutes(1) < wait ? TimeSpan.FromMinutes(1) : wait;
                    }
                    // A CA that says when to come back (429 rateLimited, 503) is not asked sooner: asking
                    // earlier only meets the same refusal and counts against the account (at most a day).
                    if (ex is AcmeException { RetryAfter: { } asked } && asked > wait)
                    {
                        wait = asked < MaxRetryAfter ? asked : MaxRetryAfter;
                    }
                    Log.Failed(logger, failures, ex.Message, wait);
                    holder.ReportProblem($"certificate: ACME attempt {failures} failed ({ex.Message}); retrying in {wait}; serving {(current is null ? "a temporary self-signed certificate" : "the previous certificate")}");
                }
            }
            else
            {
                wait = UntilNextCheck(current);
            }
            try
            {
                SetNextCheck(time.GetUtcNow() + wait);
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The earlier of the next periodic look (±10 %) and the certificate's renewal point.</summary>
    private TimeSpan UntilNextCheck(ServerCertificate certificate)
    {
        var periodic = schedule.CheckInterval * (0.9 + 0.2 * schedule.Random());
        var untilRenewal = RenewalPoint(certificate) - time.GetUtcNow();
        var wait = untilRenewal < periodic ? untilRenewal : periodic;
        return wait < MinimumWait ? MinimumWait : wait;
    }

    private void SetNextCheck(DateTimeOffset? next)
    {
        lock (_gate) _nextCheck = next;
    }

    private RenewalWindow? WindowFor(ServerCertificate certificate) =>
        Volatile.Read(ref _window) is { } w && w.Serial == certificate.Leaf.SerialNumber ? w : null;

    private DateTimeOffset RenewalPoint(ServerCertificate certificate) =>
        RenewalPolicy.RenewAt(certificate.Leaf.NotBefore.ToUniversalTime(), certificate.Leaf.NotAfter.ToUniversalTime(), WindowFor(certificate)?.Chosen);

    private bool NeedsRenewal(ServerCertificate certificate) => !Covers(certificate) || time.GetUtcNow() >= RenewalPoint(certificate);

    /// <summary>
    /// ARI (RFC 9773) when the CA offers renewalInfo: the CA may ask for an early renewal (e.g. a
    /// mass revocation). Asked again after the CA's Retry-After (1 min to 1 day, else 6 h); the
    /// window and the moment chosen in it are saved atomically with the certificate.
    /// </summary>
    private async Task RefreshRenewalInfoAsync(ServerCertificate certificate, CancellationToken ct)
    {
        var previous = WindowFor(certificate);
        if (previous is not null && previous.RefreshAt > time.GetUtcNow()) return;
        string? certId = AriCertificateId.Of(certificate.Leaf);
        if (certId is null) return;
        try
        {
            var acme = options.Tls.Acme;
            using var http = CreateHttpClient(acme.TrustedRootsFile);
            using var key = AcmeAccountKey.Create(); // renewalInfo is unauthenticated
            var client = new AcmeClient(http, new Uri(acme.DirectoryUrl), key, time);
            if (await client.RenewalInfoAsync(certId, ct) is { } info)
            {
                var window = RenewalWindow.Update(previous, certificate.Leaf.SerialNumber, info.Info.SuggestedWindow.Start, info.Info.SuggestedWindow.End, time.GetUtcNow(), info.RetryAfter, schedule.Random);
                Volatile.Write(ref _window, window);
                if (window.Chosen != previous?.Chosen) Log.WindowChosen(logger, window.Start, window.End, window.Chosen);
                try
                {
                    _store!.SaveRenewalWindow(window);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.WindowNotSaved(logger, _store!.Directory, ex.Message);
                }
            }
        }
        catch (Exception ex) when (ex is AcmeException or HttpRequestException or System.Text.Json.JsonException or InvalidDataException or TaskCanceledException)
        {
            // ARI is advice; the 2/3-lifetime backstop still applies. (An error document — a CA
            // answering 500 or 429 — escaped here once and ended the renewal loop for good.)
        }
    }

    /// <summary>What only the running service knows (the last error), for the offline <c>certificates</c> command.</summary>
    private void WriteStatus()
    {
        try
        {
            AcmeStatusFile.Write(_store!.Directory, new AcmeStatus(_lastError?.Message, _lastError?.At, FailuresTotal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Advisory only: the renewal itself does not depend on it.
        }
    }

    private bool Covers(ServerCertificate certificate) => Names.All(n => certificate.Leaf.MatchesHostname(n, allowWildcards: true, allowCommonName: false));

    private async Task IssueAsync(ServerCertificate? current, CancellationToken ct)
    {
        var store = _store!;
        using var lockFile = store.TryLock() ?? throw new IOException($"another instance holds {store.Directory}/.lock");
        var acme = options.Tls.Acme;
        using var http = CreateHttpClient(acme.TrustedRootsFile);
        AcmeClient client;
        // One account for every site: two sites ordering at their first start must register it once.
        await account.Gate.WaitAsync(ct);
        try
        {
            var stored = store.LoadAccount(acme.DirectoryUrl);
            var key = stored?.Key ?? AcmeAccountKey.Create();
            client = new AcmeClient(http, new Uri(acme.DirectoryUrl), key, time) { AccountUrl = stored?.Url };
            if (stored is null)
            {
                string url = await client.RegisterAsync(acme.Email, acme.AcceptTermsOfService, ct, acme.EabKeyId, acme.EabHmacKey);
                store.SaveAccount(acme.DirectoryUrl, key, url);
                Log.Registered(logger, url);
            }
        }
        finally
        {
            account.Gate.Release();
        }
        var types = acme.ChallengeTypes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Equals("Http01", StringComparison.OrdinalIgnoreCase) ? "http-01" : "tls-alpn-01").ToList();
        var issuer = new AcmeIssuer(client, responder, time, logger);
        // RFC 9773 §5: name the certificate being replaced so the CA can relate the two.
        string? replaces = current is not null && WindowFor(current) is not null && !store.IsImported ? AriCertificateId.Of(current.Leaf) : null;
        var (chain, keyPem) = await issuer.IssueAsync(Names, types, replaces, ct);
        var issued = ServerCertificate.FromPem(chain, keyPem);
        // Served first: a state directory that refuses the files (full, read-only) must not cost a
        // valid certificate, nor a new order per retry (the CA's duplicate-certificate limit).
        holder.Set(issued);
        Log.Issued(logger, issued.ToString(), issued.Intermediates.Count);
        TrySave(chain, keyPem);
        Volatile.Write(ref _issued, issued);
    }

    /// <summary>Saves an issued pair; on failure keeps it for the next look and says so (the previous pair stays on disk).</summary>
    private void TrySave(string chain, string keyPem)
    {
        try
        {
            _store!.SaveCertificate(chain, keyPem);
            if (_unsaved is not null) Log.SavedLate(logger, _store.Directory);
            _unsaved = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            bool first = _unsaved is null;
            _unsaved = (chain, keyPem);
            if (first)
            {
                Log.NotSaved(logger, _store!.Directory, ex.Message);
                holder.ReportProblem($"certificate: issued and served, but {_store.Directory} refused it ({ex.Message}); saving again every look; until then a restart serves the previous certificate");
            }
        }
    }

    private static HttpClient CreateHttpClient(string trustedRootsFile)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.All };
        if (!string.IsNullOrEmpty(trustedRootsFile))
        {
            // A private CA (Pebble, an internal ACME server): trust its roots for this client only.
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(trustedRootsFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors == SslPolicyErrors.None) return true;
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(roots);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                if (chain is not null) custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
                return custom.Build(new X509Certificate2(certificate));
            };
        }
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }

    private ServerCertificate Fallback()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Names.FirstOrDefault() ?? "localhost"}, O={StandInCertificate.Organization}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in Names) san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now - StandInCertificate.Backdating, now.AddDays(7));
        return ServerCertificate.FromPem(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static partial class Log
    {
        [LoggerMessage(1710, LogLevel.Information, "ACME: serving the stored certificate {Certificate}; nothing to order")]
        public static partial void Reused(ILogger logger, string certificate);

        [LoggerMessage(1711, LogLevel.Error, "ACME: stored certificate in {Directory} is unreadable ({Reason}); ordering a new one")]
        public static partial void Corrupt(ILogger logger, string directory, string reason);

        [LoggerMessage(1712, LogLevel.Warning, "ACME: serving a temporary self-signed certificate for {Names} until the first certificate is issued")]
        public static partial void Fallback(ILogger logger, string names);

        [LoggerMessage(1721, LogLevel.Warning, "ACME: the stored certificate {Certificate} expired at {NotAfter:u}; serving a temporary self-signed certificate for {Names} until a new one is issued")]
        public static partial void FallbackExpired(ILogger logger, string certificate, DateTime notAfter, string names);

        [LoggerMessage(1713, LogLevel.Information, "ACME: account registered ({AccountUrl})")]
        public static partial void Registered(ILogger logger, string accountUrl);

        [LoggerMessage(1714, LogLevel.Information, "ACME: certificate issued and now served: {Certificate} (+{Intermediates} intermediates)")]
        public static partial void Issued(ILogger logger, string certificate, int intermediates);

        [LoggerMessage(1715, LogLevel.Error, "ACME: attempt {Failures} failed: {Reason}; next attempt in {Wait}")]
        public static partial void Failed(ILogger logger, int failures, string reason, TimeSpan wait);

        [LoggerMessage(1720, LogLevel.Error, "ACME: the system clock ({Now:u}) is outside the validity the CA gave the new certificate ({NotBefore:u} to {NotAfter:u}): it looks due at once. Check the time (timedatectl, NTP); the next order is in {Wait}, not now")]
        public static partial void ClockSuspect(ILogger logger, DateTimeOffset now, DateTime notBefore, DateTime notAfter, TimeSpan wait);

        [LoggerMessage(1718, LogLevel.Error, "ACME: the new certificate is served but could not be saved in {Directory} ({Reason}); the previous one stays on disk; trying again at every look")]
        public static partial void NotSaved(ILogger logger, string directory, string reason);

        [LoggerMessage(1719, LogLevel.Information, "ACME: the new certificate is now saved in {Directory}")]
        public static partial void SavedLate(ILogger logger, string directory);

        [LoggerMessage(1716, LogLevel.Information, "ACME: the CA suggests renewing between {Start:u} and {End:u}; renewal chosen at {Chosen:u}")]
        public static partial void WindowChosen(ILogger logger, DateTimeOffset start, DateTimeOffset end, DateTimeOffset chosen);

        [LoggerMessage(1717, LogLevel.Warning, "ACME: could not save the renewal window in {Directory} ({Reason}); a restart will ask the CA again")]
        public static partial void WindowNotSaved(ILogger logger, string directory, string reason);
    }
}
