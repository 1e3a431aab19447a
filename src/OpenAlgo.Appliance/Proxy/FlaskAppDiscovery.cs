using OpenAlgo.Appliance.Migration.Discovery;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// Where OpenAlgo's Flask app listens on this machine, as OpenAlgo's own installers lay it out, for
/// <c>install</c> and <c>check</c> to propose <c>Proxy:Upstream</c>:
/// <list type="bullet">
/// <item>install.sh since May 2026 (one deployment per server): gunicorn binds
/// <c>unix:/var/python/openalgo/openalgo.sock</c>;</item>
/// <item>older install.sh: <c>/var/python/openalgo-flask/DEPLOY/openalgo.sock</c>, where DEPLOY is the
/// domain with its first dot made a dash, a dash, and the broker (<c>trade-example.com-zerodha</c>);</item>
/// <item>install-multi.sh (N instances at once): <c>/var/python/openalgo-flask/openalgo&lt;i&gt;/openalgo.sock</c>,
/// the instance whose <c>.env</c> says <c>HOST_SERVER = 'https://DOMAIN'</c>;</item>
/// <item>otherwise OpenAlgo's own default, <c>http://127.0.0.1:5000</c> (<c>python app.py</c>, Docker).</item>
/// </list>
/// A layout counts when its socket exists or OpenAlgo's <c>.env</c> is where that installer puts it
/// (gunicorn removes its socket while OpenAlgo is stopped).
/// </summary>
internal static class FlaskAppDiscovery
{
    public const string InstallShSocket = "/var/python/openalgo/openalgo.sock";
    public const string OlderInstallShDirectory = "/var/python/openalgo-flask";
    public const string DefaultTcp = "http://127.0.0.1:5000";

    /// <summary>install-multi.sh's instance directories: <c>openalgo1</c>, <c>openalgo2</c>, … under <see cref="OlderInstallShDirectory"/>.</summary>
    private const string MultiInstancePrefix = "openalgo";

    /// <summary>What <c>Proxy:Upstream</c> should be, and why; <paramref name="root"/> stands for <c>/</c>.</summary>
    public static IReadOnlyList<FlaskAppLocation> Find(string root, string? domain)
    {
        string Under(string path) => Path.Combine(root, path.TrimStart('/'));
        var found = new List<FlaskAppLocation>();
        string newest = Under(InstallShSocket);
        if (File.Exists(newest) || File.Exists(Path.Combine(Path.GetDirectoryName(newest)!, ".env")))
        {
            found.Add(new("unix:" + InstallShSocket, "OpenAlgo's install.sh layout, /var/python/openalgo"));
        }
        string older = Under(OlderInstallShDirectory);
        if (domain is { Length: > 0 } && Directory.Exists(older))
        {
            // install.sh wrote DEPLOY_NAME="${DOMAIN/./-}-${BROKER_NAME}": only the first dot becomes a dash.
            int dot = domain.IndexOf('.', StringComparison.Ordinal);
            string prefix = (dot < 0 ? domain : domain[..dot] + "-" + domain[(dot + 1)..]) + "-";
            foreach (var deploy in Directory.EnumerateDirectories(older, prefix + "*").Order(StringComparer.Ordinal))
            {
                string socket = Path.Combine(deploy, "openalgo.sock");
                if (File.Exists(socket) || File.Exists(Path.Combine(deploy, "openalgo", ".env")))
                {
                    string name = Path.GetFileName(deploy);
                    found.Add(new("unix:" + $"{OlderInstallShDirectory}/{name}/openalgo.sock", $"an older install.sh deployment for {domain} ({name})"));
                }
            }
            found.AddRange(MultiInstances(older, domain));
        }
        return found;
    }

    /// <summary>
    /// install-multi.sh's instances serving <paramref name="domain"/>: it writes
    /// <c>HOST_SERVER = 'https://DOMAIN'</c> into <c>openalgo&lt;i&gt;/.env</c> and binds gunicorn to
    /// <c>openalgo&lt;i&gt;/openalgo.sock</c> (its WEBSOCKET_PORT is 8765 + i − 1, its ZMQ_PORT 5555 + i − 1).
    /// </summary>
    private static IEnumerable<FlaskAppLocation> MultiInstances(string directory, string domain)
    {
        var instances = new List<(int Number, string Name)>();
        foreach (var path in Directory.EnumerateDirectories(directory, MultiInstancePrefix + "*"))
        {
            string name = Path.GetFileName(path);
            if (int.TryParse(name.AsSpan(MultiInstancePrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
                && number > 0 && HostServer(Path.Combine(path, ".env")) is { } host && host.Equals(domain.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
            {
                instances.Add((number, name));
            }
        }
        foreach (var (number, name) in instances.OrderBy(i => i.Number))
        {
            yield return new("unix:" + $"{OlderInstallShDirectory}/{name}/openalgo.sock",
                $"OpenAlgo's install-multi.sh instance {number} for {domain} ({OlderInstallShDirectory}/{name}, HOST_SERVER in its .env)", number);
        }
    }

    /// <summary>The host of <c>HOST_SERVER</c> in an OpenAlgo <c>.env</c>, or null (no file, unreadable, no such line).</summary>
    private static string? HostServer(string envFile)
    {
        try
        {
            if (!File.Exists(envFile)) return null;
            string? value = DotEnvFile.Parse(envFile, File.ReadAllText(envFile)).Get("HOST_SERVER");
            return Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var url) ? url.Host : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>One place OpenAlgo's web app was found: the <c>Proxy:Upstream</c> value, why, and install-multi.sh's instance number when it is one of its instances.</summary>
internal sealed record FlaskAppLocation(string Upstream, string Why, int? MultiInstance = null);
