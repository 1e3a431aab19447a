namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// Where OpenAlgo's Flask app listens on this machine, as OpenAlgo's own installers lay it out, for
/// <c>install</c> and <c>check</c> to propose <c>Proxy:Upstream</c>:
/// <list type="bullet">
/// <item>install.sh since May 2026 (one deployment per server): gunicorn binds
/// <c>unix:/var/python/openalgo/openalgo.sock</c>;</item>
/// <item>older install.sh: <c>/var/python/openalgo-flask/DEPLOY/openalgo.sock</c>, where DEPLOY is the
/// domain with its first dot made a dash, a dash, and the broker (<c>trade-example.com-zerodha</c>);</item>
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

    /// <summary>What <c>Proxy:Upstream</c> should be, and why; <paramref name="root"/> stands for <c>/</c>.</summary>
    public static IReadOnlyList<(string Upstream, string Why)> Find(string root, string? domain)
    {
        string Under(string path) => Path.Combine(root, path.TrimStart('/'));
        var found = new List<(string, string)>();
        string newest = Under(InstallShSocket);
        if (File.Exists(newest) || File.Exists(Path.Combine(Path.GetDirectoryName(newest)!, ".env")))
        {
            found.Add(("unix:" + InstallShSocket, "OpenAlgo's install.sh layout, /var/python/openalgo"));
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
                    found.Add(("unix:" + $"{OlderInstallShDirectory}/{name}/openalgo.sock", $"an older install.sh deployment for {domain} ({name})"));
                }
            }
        }
        return found;
    }
}
