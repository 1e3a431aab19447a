using System.Text.Json;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// A SQLite database with OpenAlgo's <c>api_keys</c> and <c>auth</c> tables, written by Debian's
/// python3 with python3-argon2 (argon2-cffi, what OpenAlgo hashes keys with) — real Argon2id hashes
/// of key + pepper, made by the same code OpenAlgo runs.
/// </summary>
internal sealed class OpenAlgoDatabase : IDisposable
{
    public const string Pepper = "a-test-pepper-of-at-least-32-characters-0123456789";

    private const string Script = """
        import json, sqlite3, sys
        from argon2 import PasswordHasher
        args = json.loads(sys.stdin.read())
        db = sqlite3.connect(args["path"])
        db.executescript('''
        CREATE TABLE IF NOT EXISTS api_keys (id INTEGER PRIMARY KEY, user_id VARCHAR NOT NULL UNIQUE, api_key_hash TEXT NOT NULL,
            api_key_encrypted TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP, order_mode VARCHAR(20) DEFAULT 'auto');
        CREATE TABLE IF NOT EXISTS auth (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE, auth TEXT NOT NULL, feed_token TEXT,
            broker VARCHAR(20) NOT NULL, user_id VARCHAR(255), is_revoked BOOLEAN DEFAULT 0);
        ''')
        ph = PasswordHasher(**args["params"])
        for u in args.get("users", []):
            h = ph.hash(u["key"] + args["pepper"])
            assert ph.verify(h, u["key"] + args["pepper"])
            db.execute("INSERT OR REPLACE INTO api_keys (user_id, api_key_hash, api_key_encrypted) VALUES (?, ?, ?)", (u["user"], h, "gAAAA-not-used"))
            if u.get("broker"):
                db.execute("INSERT OR REPLACE INTO auth (name, auth, broker, user_id, is_revoked) VALUES (?, ?, ?, ?, ?)",
                           (u["user"], "gAAAA-token", u["broker"], "CLIENT1", 1 if u.get("revoked") else 0))
        for sql in args.get("sql", []):
            db.execute(sql)
        db.commit()
        print(db.execute("SELECT api_key_hash FROM api_keys ORDER BY id LIMIT 1").fetchone()[0] if args.get("users") else "")
        """;

    private readonly string _directory;

    public OpenAlgoDatabase()
    {
        _directory = Path.Combine(Path.GetTempPath(), "oa-db-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        Path_ = Path.Combine(_directory, "openalgo.db");
    }

    public string Path_ { get; }

    /// <summary>Fast Argon2id parameters for most tests; <see cref="OpenAlgoDefaults"/> for cost-sensitive ones.</summary>
    public static readonly object FastParameters = new { time_cost = 1, memory_cost = 8192, parallelism = 1 };
    /// <summary>argon2-cffi 23's PasswordHasher() defaults, what a current OpenAlgo install writes.</summary>
    public static readonly object OpenAlgoDefaults = new { time_cost = 3, memory_cost = 65536, parallelism = 4 };

    /// <summary>Adds users (key, user, broker, revoked); returns the first stored hash.</summary>
    public string Seed(IEnumerable<(string Key, string User, string? Broker, bool Revoked)> users, object? parameters = null)
    {
        var payload = new Dictionary<string, object?>
        {
            ["path"] = Path_,
            ["pepper"] = Pepper,
            ["params"] = parameters ?? FastParameters,
            ["users"] = users.Select(u => new Dictionary<string, object?> { ["key"] = u.Key, ["user"] = u.User, ["broker"] = u.Broker, ["revoked"] = u.Revoked }).ToList(),
        };
        return Python.Run(Script, JsonSerializer.Serialize(payload)).Trim();
    }

    /// <summary>Runs SQL statements (as OpenAlgo's Flask side would write).</summary>
    public void Execute(params string[] sql)
    {
        var payload = new Dictionary<string, object?> { ["path"] = Path_, ["pepper"] = Pepper, ["params"] = FastParameters, ["sql"] = sql };
        Python.Run(Script, JsonSerializer.Serialize(payload));
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
