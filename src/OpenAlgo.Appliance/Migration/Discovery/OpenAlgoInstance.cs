namespace OpenAlgo.Appliance.Migration.Discovery;

/// <summary>
/// One OpenAlgo deployment: the systemd unit that runs its gunicorn, what gunicorn binds, and its
/// <c>.env</c> (which sets the ports of OpenAlgo's own WebSocket proxy and ZeroMQ bus).
/// </summary>
internal sealed class OpenAlgoInstance
{
    public const int DefaultWebSocketPort = 8765;
    public const int DefaultZmqPort = 5555;
    public const int DefaultFlaskPort = 5000;

    public required SystemdUnit Unit { get; init; }

    /// <summary><c>unix:/path.sock</c> or <c>host:port</c> as gunicorn's <c>--bind</c> says.</summary>
    public required string Bind { get; init; }

    public required DotEnvFile Env { get; init; }

    /// <summary>How the .env was found, for the plan.</summary>
    public required string EnvSource { get; init; }

    public int WebSocketPort => Env.GetInt("WEBSOCKET_PORT", DefaultWebSocketPort);

    public string WebSocketHost => Env.Get("WEBSOCKET_HOST") is { Length: > 0 } host ? host : "127.0.0.1";

    public int ZmqPort => Env.GetInt("ZMQ_PORT", DefaultZmqPort);

    public string ZmqHost => Env.Get("ZMQ_HOST") is { Length: > 0 } host ? host : "127.0.0.1";

    public int FlaskPort => Env.GetInt("FLASK_PORT", DefaultFlaskPort);

    /// <summary>OpenAlgo's proxy runs inside gunicorn unless <c>APP_MODE=standalone</c> (Docker) keeps it out.</summary>
    public bool RunsOwnProxy => !string.Equals(Env.Get("APP_MODE"), "standalone", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every port this instance uses now (its proxy, its bus, Flask's dev-server port).</summary>
    public IEnumerable<int> Ports => [WebSocketPort, ZmqPort, FlaskPort];

    /// <summary>A .env that is OpenAlgo's: it sets names only OpenAlgo's sample has.</summary>
    public static bool LooksLikeOpenAlgo(DotEnvFile env) =>
        env.Get("HOST_SERVER") is not null || env.Get("WEBSOCKET_URL") is not null || env.Get("BROKER_API_KEY") is not null;
}

/// <summary>
/// Finds the OpenAlgo instance behind an nginx upstream: the unit whose gunicorn binds that socket
/// or port, then its .env (from <c>EnvironmentFile=</c>, else <c>WorkingDirectory/.env</c>). A socket
/// that no unit binds is looked up next to the socket (install.sh keeps it beside or one folder
/// above the app), but then no service is known to restart, so the instance is reported, not migrated.
/// </summary>
internal sealed class InstanceLocator(SystemRoot root, IReadOnlyList<SystemdUnit> units)
{
    private readonly Dictionary<string, OpenAlgoInstance> _byUnit = new(StringComparer.Ordinal);

    /// <summary>Every unit that runs an OpenAlgo gunicorn, whether or not nginx points at it.</summary>
    public IEnumerable<OpenAlgoInstance> All()
    {
        foreach (var unit in units)
        {
            if (unit.GunicornBind is null) continue;
            if (TryLoad(unit, out var instance, out _)) yield return instance;
        }
    }

    /// <summary>The instance, or null with the reason.</summary>
    public OpenAlgoInstance? Find(Nginx.ProxyTarget target, out string? problem)
    {
        problem = null;
        var matches = units.Where(u => u.GunicornBind is { } bind && Binds(bind, target)).ToList();
        if (matches.Count > 1)
        {
            problem = $"{matches.Count} units bind {target} ({string.Join(", ", matches.Select(u => u.Name))}); stop or remove the stale one";
            return null;
        }
        if (matches.Count == 1)
        {
            return TryLoad(matches[0], out var instance, out problem) ? instance : null;
        }
        if (target.IsUnix)
        {
            string directory = Path.GetDirectoryName(target.UnixPath!) ?? "/";
            var candidates = new[] { directory + "/.env", directory + "/openalgo/.env" }.Where(root.FileExists).ToList();
            problem = candidates.Count > 0
                ? $"no systemd unit runs gunicorn on unix:{target.UnixPath} (found {candidates[0]}, but no service to restart after moving its WEBSOCKET_PORT)"
                : $"no systemd unit runs gunicorn on unix:{target.UnixPath}, and no OpenAlgo .env next to the socket";
            return null;
        }
        problem = $"no systemd unit runs gunicorn on {target} (a Docker container or another program?)";
        return null;
    }

    private bool TryLoad(SystemdUnit unit, out OpenAlgoInstance instance, out string? problem)
    {
        instance = null!;
        problem = null;
        if (_byUnit.TryGetValue(unit.Name, out var cached))
        {
            instance = cached;
            return true;
        }
        string? envPath = null;
        string source;
        var fromEnvironmentFile = unit.EnvironmentFiles.FirstOrDefault(f => f.EndsWith(".env", StringComparison.Ordinal) && root.FileExists(f));
        if (fromEnvironmentFile is not null)
        {
            envPath = fromEnvironmentFile;
            source = $"EnvironmentFile= of {unit.Name}";
        }
        else if (unit.WorkingDirectory is { } working && root.FileExists(working.TrimEnd('/') + "/.env"))
        {
            envPath = working.TrimEnd('/') + "/.env";
            source = $"WorkingDirectory= of {unit.Name}";
        }
        else
        {
            problem = $"{unit.Name} runs gunicorn but no .env was found (WorkingDirectory={unit.WorkingDirectory ?? "unset"})";
            return false;
        }
        DotEnvFile env;
        try
        {
            env = DotEnvFile.Parse(envPath, root.ReadAllText(envPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"{envPath}: cannot read it ({ex.Message}); run migrate as root";
            return false;
        }
        if (!OpenAlgoInstance.LooksLikeOpenAlgo(env))
        {
            problem = $"{envPath} (of {unit.Name}) is not an OpenAlgo .env (no HOST_SERVER, WEBSOCKET_URL or BROKER_API_KEY)";
            return false;
        }
        instance = new OpenAlgoInstance { Unit = unit, Bind = unit.GunicornBind!, Env = env, EnvSource = source };
        _byUnit[unit.Name] = instance;
        return true;
    }

    private static bool Binds(string bind, Nginx.ProxyTarget target)
    {
        if (target.Unresolved is not null) return false;
        if (bind.StartsWith("unix:", StringComparison.Ordinal)) return target.IsUnix && bind[5..] == target.UnixPath;
        if (target.IsUnix) return false;
        int colon = bind.LastIndexOf(':');
        string host = colon < 0 ? bind : bind[..colon];
        if (colon < 0 || !int.TryParse(bind[(colon + 1)..], out int port) || port != target.Port) return false;
        return host is "" or "0.0.0.0" or "[::]" or "::" || target.IsLoopbackTcp && host is "127.0.0.1" or "localhost" or "[::1]";
    }
}
