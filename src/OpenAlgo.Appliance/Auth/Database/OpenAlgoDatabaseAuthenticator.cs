using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Auth.Database;

/// <summary>
/// <c>Auth:Mode=OpenAlgoDatabase</c>: OpenAlgo's own <c>verify_api_key</c> + <c>get_broker_name</c>
/// (spec §8) on its SQLite database, read-only. A key is checked with Argon2id against every
/// <c>api_keys</c> row with <c>API_KEY_PEPPER</c> appended; the broker comes from <c>auth</c> unless
/// revoked. The caches and TTLs are OpenAlgo's (verified 1024/10 h, invalid 512/5 min, broker
/// 1024/50 min), keyed by the key's SHA-256. Unlike OpenAlgo, Argon2 never runs on a connection's
/// loop nor on the thread pool: it runs on two dedicated threads (<see cref="VerificationThreads"/>,
/// 64 MiB each at most), and concurrent checks of one key share a single verification.
/// </summary>
internal sealed partial class OpenAlgoDatabaseAuthenticator : IApiKeyAuthenticator, IDisposable
{
    private readonly string _path;
    private readonly string _pepper;
    private readonly ILogger _logger;
    private readonly TtlCache<string> _verified;
    private readonly TtlCache<bool> _invalid;
    private readonly TtlCache<string> _brokers;
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _inFlight = new(StringComparer.Ordinal);
    private readonly VerificationThreads _threads = new(2, "argon2");
    // Broker lookups are one quick query: they must not queue behind other keys' Argon2 scans.
    private readonly VerificationThreads _lookups = new(1, "openalgo-db");
    private long _verifications;
    private long _onPoolThreads;
    private long _lastSaturatedLog = -10_000;

    /// <summary>
    /// Distinct keys waiting for or in verification. Past it a new key is answered "try again" at
    /// once: a flood of guessed keys would otherwise queue minutes of Argon2 and keep both cores busy.
    /// </summary>
    public int MaxPendingVerifications { get; init; } = 64;

    public OpenAlgoDatabaseAuthenticator(string path, string pepper, TimeProvider time, ILogger<OpenAlgoDatabaseAuthenticator> logger)
    {
        _path = path;
        _pepper = pepper;
        _logger = logger;
        _verified = new(1024, TimeSpan.FromSeconds(36000), time);
        _invalid = new(512, TimeSpan.FromSeconds(300), time);
        _brokers = new(1024, TimeSpan.FromSeconds(3000), time);
    }

    /// <summary>Argon2 verifications run so far (each compares one key with one stored hash).</summary>
    public long Verifications => Interlocked.Read(ref _verifications);

    /// <summary>Verifications that ran on a thread-pool thread — none should (see <see cref="VerificationThreads"/>).</summary>
    public long VerificationsOnPoolThreads => Interlocked.Read(ref _onPoolThreads);

    public async ValueTask<ApiKeyCheck> CheckAsync(string apiKey, CancellationToken cancellationToken)
    {
        string id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
        if (_invalid.TryGet(id, out _)) return ApiKeyCheck.Invalid;
        try
        {
            if (!_verified.TryGet(id, out string? userId))
            {
                if (!_inFlight.ContainsKey(id) && _inFlight.Count >= MaxPendingVerifications)
                {
                    long now = Environment.TickCount64;
                    if (now - Interlocked.Read(ref _lastSaturatedLog) > 10_000)
                    {
                        Interlocked.Exchange(ref _lastSaturatedLog, now);
                        Log.Saturated(_logger, MaxPendingVerifications);
                    }
                    return new ApiKeyCheck(ApiKeyCheckStatus.Unavailable, null, null);
                }
                var verification = _inFlight.GetOrAdd(id, _ => new Lazy<Task<string?>>(() => _threads.Run(() => FindUser(apiKey))));
                try
                {
                    userId = await verification.Value.WaitAsync(cancellationToken);
                }
                finally
                {
                    _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<string?>>>(id, verification));
                }
                if (userId is null)
                {
                    _invalid.Set(id, true);
                    return ApiKeyCheck.Invalid;
                }
                _verified.Set(id, userId);
            }

            if (!_brokers.TryGet(id, out string? broker))
            {
                broker = await _lookups.Run(() => FindBroker(userId!)).WaitAsync(cancellationToken);
                if (broker is null) return new ApiKeyCheck(ApiKeyCheckStatus.NoBroker, userId, null);
                _brokers.Set(id, broker);
            }
            return new ApiKeyCheck(ApiKeyCheckStatus.Valid, userId, broker);
        }
        catch (DatabaseUnavailableException ex)
        {
            // Not a verdict on the key: nothing is cached, the next attempt asks again.
            Log.Unavailable(_logger, _path, ex.Message);
            return new ApiKeyCheck(ApiKeyCheckStatus.Unavailable, null, null);
        }
    }

    /// <summary>
    /// OpenAlgo's <c>CACHE_INVALIDATE_{AUTH|FEED|ALL}_{user}</c> (§9.4): ALL clears the key, broker and
    /// negative caches — whole caches, not one user's, as OpenAlgo does. AUTH and FEED concern broker
    /// tokens, which the appliance never holds.
    /// </summary>
    public void Invalidate(string cacheType, string? userId)
    {
        if (!cacheType.Equals("ALL", StringComparison.OrdinalIgnoreCase)) return;
        _verified.Clear();
        _invalid.Clear();
        _brokers.Clear();
        Log.Invalidated(_logger, userId ?? "?");
    }

    /// <summary>Checks the database and the native libraries once at startup, so a bad path or a missing package is said at once.</summary>
    public void Probe()
    {
        Argon2Verifier.EnsureAvailable();
        SqliteReader.Query(_path, "SELECT COUNT(*) FROM api_keys", [], r => r[0]);
        SqliteReader.Query(_path, "SELECT COUNT(*) FROM auth", [], r => r[0]);
    }

    private string? FindUser(string apiKey)
    {
        var rows = SqliteReader.Query(_path, "SELECT user_id, api_key_hash FROM api_keys", [], r => (UserId: r[0], Hash: r[1]));
        string secret = apiKey + _pepper;
        foreach (var (userId, hash) in rows)
        {
            if (userId is null || hash is null) continue;
            Interlocked.Increment(ref _verifications);
            if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref _onPoolThreads);
            if (Argon2Verifier.Verify(hash, secret)) return userId;
        }
        return null;
    }

    private string? FindBroker(string userId)
    {
        var rows = SqliteReader.Query(_path, "SELECT broker, is_revoked FROM auth WHERE name = ?1 LIMIT 1", [userId], r => (Broker: r[0], Revoked: r[1]));
        if (rows.Count == 0) return null;
        var (broker, revoked) = rows[0];
        bool isRevoked = revoked is not null && revoked != "0" && !revoked.Equals("false", StringComparison.OrdinalIgnoreCase);
        return isRevoked || string.IsNullOrEmpty(broker) ? null : broker;
    }

    public void Dispose()
    {
        _threads.Dispose();
        _lookups.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1501, LogLevel.Error, "API keys cannot be checked: OpenAlgo's database {Path}: {Reason}")]
        public static partial void Unavailable(ILogger logger, string path, string reason);

        [LoggerMessage(1503, LogLevel.Warning, "API key verification saturated: {Limit} keys already waiting for Argon2; a new key was told to try again (a flood of guessed keys?)")]
        public static partial void Saturated(ILogger logger, int limit);

        [LoggerMessage(1502, LogLevel.Information, "Cache invalidation for user {UserId}: API key, broker and negative caches cleared")]
        public static partial void Invalidated(ILogger logger, string userId);
    }
}
