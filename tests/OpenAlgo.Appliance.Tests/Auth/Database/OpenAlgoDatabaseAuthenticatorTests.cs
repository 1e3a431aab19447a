using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Auth.Database;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Auth.Database;

/// <summary>
/// <c>Auth:Mode=OpenAlgoDatabase</c> against a SQLite database seeded by argon2-cffi (Debian's
/// python3-argon2), through a real appliance, real sockets and a real ZeroMQ publisher.
/// </summary>
public sealed class OpenAlgoDatabaseAuthenticatorTests : IDisposable
{
    private const string KeyA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    private const string KeyB = "b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5";
    private readonly OpenAlgoDatabase _database = new();

    private Task<TestAppliance> StartAsync(string pepper = OpenAlgoDatabase.Pepper) =>
        TestAppliance.StartAsync(o =>
        {
            o.Auth.Mode = AuthMode.OpenAlgoDatabase;
            o.Auth.DatabasePath = _database.Path_;
            o.Auth.ApiKeyPepper = pepper;
            o.Auth.StaticKeys.Clear();
        });

    private static string Authenticate(string key) => $"{{\"action\": \"authenticate\", \"api_key\": \"{key}\"}}";

    [Fact]
    public async Task Keys_hashed_by_argon2_cffi_authenticate_with_the_broker_recorded_in_auth_and_revocation_is_honoured()
    {
        _database.Seed([(KeyA, "rajandran", "zerodha", false), (KeyB, "revokeduser", "angel", true)]);
        await using var appliance = await StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);

        Assert.Equal("{\"type\": \"auth\", \"status\": \"success\", \"message\": \"Authentication successful\", \"broker\": \"zerodha\", \"user_id\": \"rajandran\", \"supported_features\": {\"ltp\": true, \"quote\": true, \"depth\": true}}",
            await client.AskAsync(Authenticate(KeyA)));

        await using var revoked = await WsTestClient.ConnectAsync(appliance.PublicUri);
        Assert.Equal("{\"status\": \"error\", \"code\": \"BROKER_ERROR\", \"message\": \"No broker configuration found for user\"}", await revoked.AskAsync(Authenticate(KeyB)));
        // OpenAlgo counts the connection as authenticated once the key matched (§4.4 step 3).
        Assert.Equal("{\"status\": \"error\", \"code\": \"BROKER_ERROR\", \"message\": \"Broker adapter not found\"}",
            await revoked.AskAsync("{\"action\": \"subscribe\", \"symbol\": \"INFY\", \"exchange\": \"NSE\", \"mode\": 1}"));

        Assert.Equal("{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}", await client.AskAsync(Authenticate(KeyA[..^1] + "1")));
    }

    [Fact]
    public async Task A_wrong_pepper_matches_no_key()
    {
        string hash = _database.Seed([(KeyA, "rajandran", "zerodha", false)]);
        Assert.StartsWith("$argon2id$v=19$", hash);
        Assert.True(Argon2Verifier.Verify(hash, KeyA + OpenAlgoDatabase.Pepper));
        Assert.False(Argon2Verifier.Verify(hash, KeyA + OpenAlgoDatabase.Pepper + "x"));
        Assert.False(Argon2Verifier.Verify(hash, KeyA));
        Assert.False(Argon2Verifier.Verify("$argon2id$v=19$m=8,t=1,p=1$bm90YmFzZTY0$", KeyA));

        await using var appliance = await StartAsync(pepper: "another-deployment's-pepper-0123456789abcdef");
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        Assert.Equal("{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}", await client.AskAsync(Authenticate(KeyA)));
    }

    [Fact]
    public async Task Cached_verdicts_last_until_OpenAlgo_publishes_CACHE_INVALIDATE_ALL()
    {
        _database.Seed([(KeyA, "rajandran", "zerodha", false)]);
        await using var appliance = await StartAsync();
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync(KeyA);

        // The key is deleted and the broker revoked in the database: OpenAlgo's caches keep answering.
        _database.Execute("DELETE FROM api_keys WHERE user_id = 'rajandran'", "UPDATE auth SET is_revoked = 1 WHERE name = 'rajandran'");
        await client.AuthenticateAsync(KeyA);

        // CACHE_INVALIDATE_ALL on the bus: the next check reads the database again and refuses.
        string refused = "{\"status\": \"error\", \"code\": \"AUTHENTICATION_ERROR\", \"message\": \"Invalid API key\"}";
        await PublishUntilAsync(bus, client, "CACHE_INVALIDATE_ALL_rajandran", refused);

        // The refusal is cached too (5 min) until the next invalidation.
        _database.Seed([(KeyA, "rajandran", "zerodha", false)]);
        Assert.Equal(refused, await client.AskAsync(Authenticate(KeyA)));
        await PublishUntilAsync(bus, client, "CACHE_INVALIDATE_ALL_rajandran", "{\"type\": \"auth\", \"status\": \"success\"");
    }

    private static async Task PublishUntilAsync(BusPublisher bus, WsTestClient client, string topic, string expectedStart)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            bus.Publish(topic, "{\"action\": \"invalidate\", \"user_id\": \"rajandran\", \"cache_type\": \"ALL\"}");
            await Task.Delay(100);
            string reply = await client.AskAsync(Authenticate(KeyA));
            if (reply.StartsWith(expectedStart, StringComparison.Ordinal)) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"still {reply} after publishing {topic}");
        }
    }

    [Fact]
    public void Only_ALL_invalidations_clear_the_key_caches()
    {
        _database.Seed([(KeyA, "rajandran", "zerodha", false)]);
        using var authenticator = new OpenAlgoDatabaseAuthenticator(_database.Path_, OpenAlgoDatabase.Pepper, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OpenAlgoDatabaseAuthenticator>.Instance);
        Assert.Equal(ApiKeyCheckStatus.Valid, authenticator.CheckAsync(KeyA, default).AsTask().Result.Status);
        _database.Execute("DELETE FROM api_keys");
        authenticator.Invalidate("AUTH", "rajandran");
        authenticator.Invalidate("FEED", "rajandran");
        Assert.Equal(ApiKeyCheckStatus.Valid, authenticator.CheckAsync(KeyA, default).AsTask().Result.Status);
        Assert.Equal(1, authenticator.Verifications);
        authenticator.Invalidate("ALL", "rajandran");
        Assert.Equal(ApiKeyCheckStatus.InvalidKey, authenticator.CheckAsync(KeyA, default).AsTask().Result.Status);
    }

    [Fact]
    public async Task Argon2_runs_on_its_own_threads_once_per_key_however_many_clients_present_it()
    {
        // OpenAlgo's real cost (argon2-cffi 23 defaults: 64 MiB, t=3, p=4): OpenAlgo's event loop stalls for it.
        const string KeyC = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
        _database.Seed([(KeyA, "rajandran", "zerodha", false), (KeyB, "second", "angel", false), (KeyC, "third", "dhan", false)], OpenAlgoDatabase.OpenAlgoDefaults);
        await using var appliance = await StartAsync();
        var clients = new List<WsTestClient>();
        try
        {
            string[] keys = [KeyA, KeyA, KeyA, KeyA, KeyB, KeyC];
            foreach (var _ in keys) clients.Add(await WsTestClient.ConnectAsync(appliance.InternalUri));
            await using var bystander = await WsTestClient.ConnectAsync(appliance.InternalUri);

            // Six verifications at OpenAlgo's cost (1 + 2 + 3 rows scanned) took over 10 s under a load
            // average of 25 in a clean clone; what is asserted is the bystander's pong meanwhile, not their speed.
            var replies = keys.Select(async (key, i) =>
            {
                await clients[i].SendAsync(Authenticate(key));
                return await clients[i].ReceiveAsync(TimeSpan.FromSeconds(90));
            }).ToList();
            // While the verifications run, another client is served.
            string pong = await bystander.AskAsync("{\"action\": \"ping\"}");
            Assert.StartsWith("{\"type\": \"pong\"", pong);
            Assert.Contains(replies, r => !r.IsCompleted);
            foreach (var reply in replies) Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", await reply);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
        var authenticator = Assert.IsType<OpenAlgoDatabaseAuthenticator>(appliance.Services.GetRequiredService<IApiKeyAuthenticator>());
        // KeyA matched the first row once for four clients; KeyB the second row, KeyC the third (OpenAlgo scans in order).
        Assert.Equal(1 + 2 + 3, authenticator.Verifications);
        // None held a thread-pool thread: two at once used to starve a two-core box for seconds.
        Assert.Equal(0, authenticator.VerificationsOnPoolThreads);
    }

    [Fact]
    public async Task A_flood_of_new_keys_past_the_queue_limit_is_told_to_try_again_at_once()
    {
        _database.Seed([(KeyA, "rajandran", "zerodha", false)], OpenAlgoDatabase.OpenAlgoDefaults);
        using var authenticator = new OpenAlgoDatabaseAuthenticator(_database.Path_, OpenAlgoDatabase.Pepper, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OpenAlgoDatabaseAuthenticator>.Instance) { MaxPendingVerifications = 2 };
        var checks = Enumerable.Range(0, 5).Select(i => authenticator.CheckAsync($"guess-{i}", default).AsTask()).ToList();
        var results = await Task.WhenAll(checks);
        Assert.Equal(2, results.Count(r => r.Status == ApiKeyCheckStatus.InvalidKey));
        Assert.Equal(3, results.Count(r => r.Status == ApiKeyCheckStatus.Unavailable));
        Assert.Equal(2, authenticator.Verifications); // the refused ones cost nothing
        // Nothing was cached for them: once the queue drains they are checked normally.
        Assert.Equal(ApiKeyCheckStatus.InvalidKey, (await authenticator.CheckAsync("guess-4", default)).Status);
        Assert.Equal(ApiKeyCheckStatus.Valid, (await authenticator.CheckAsync(KeyA, default)).Status);
    }

    [Fact]
    public async Task A_file_that_is_not_OpenAlgo_s_database_stops_startup_naming_the_key()
    {
        File.WriteAllText(_database.Path_, "not a database");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync());
        Assert.StartsWith("Appliance:Auth:DatabasePath: OpenAlgo's database '", error.Message);
        Assert.Contains("Fix:", error.Message);
    }

    public void Dispose() => _database.Dispose();
}
