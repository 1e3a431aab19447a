using OpenAlgo.Appliance.Migration.Discovery;
using OpenAlgo.Appliance.Migration.Nginx;

namespace OpenAlgo.Appliance.Migration.Planning;

/// <summary>What migrate found and what it would do: one site per OpenAlgo server block, and everything it cannot map.</summary>
internal sealed class MigrationPlan
{
    public const string ConfigurationFile = "/etc/openalgo-appliance/appsettings.Production.json";
    public const string StateDirectory = "/var/lib/openalgo-appliance";
    public const string RollbackScript = StateDirectory + "/rollback.sh";
    public const string MigrationDirectory = StateDirectory + "/migration";
    public const string ApplianceService = "openalgo-appliance.service";

    public required string NginxSource { get; init; }
    public required IReadOnlyList<string> NginxFiles { get; init; }
    public List<SitePlan> Sites { get; } = [];
    public List<Unmigrated> NotMigrated { get; } = [];
    public List<KeptServer> Kept { get; } = [];
    public List<string> Notes { get; } = [];

    public string ListenHttps { get; set; } = "[::]:443";
    public string ListenHttp { get; set; } = "[::]:80";
    public List<string> ListenNotes { get; } = [];

    /// <summary>nginx keeps running for <see cref="Kept"/> server blocks: the migrated ones are disabled and nginx reloaded instead of stopped.</summary>
    public bool NginxKeepsRunning => Kept.Count > 0;

    /// <summary>Enabled entries (a sites-enabled link, a conf.d file) to take out of nginx when it keeps running.</summary>
    public List<string> NginxEntriesToDisable { get; } = [];

    public string NginxService { get; set; } = "nginx.service";

    /// <summary>certbot's renewal timers to stop (apt's certbot.timer, RHEL's certbot-renew.timer, snap's).</summary>
    public List<string> CertbotTimers { get; } = [];

    /// <summary>certbot lineages whose renewal stops while the timer keeps running for other lineages.</summary>
    public List<string> RenewalFilesToPark { get; } = [];

    public string? AcmeEmail { get; set; }
    public string? AcmeDirectory { get; set; }
    public bool AcceptTerms { get; set; }
    public string? AcmeNote { get; set; }

    public string ConfigurationJson { get; set; } = "";

    /// <summary>A previous --apply was not rolled back: its rollback.sh still describes the system before it.</summary>
    public string? AlreadyMigrated { get; set; }

    public IEnumerable<Unmigrated> Blocking => NotMigrated.Where(n => n.Blocking);

    public bool CanApply => Sites.Count > 0 && !Blocking.Any() && AlreadyMigrated is null;

    /// <summary>The OpenAlgo services restarted so their proxies move (in plan order, no duplicates).</summary>
    public IEnumerable<string> ServicesToRestart => Sites.Select(s => s.Instance.Unit.Name).Distinct();
}

internal enum CertificateHandling
{
    /// <summary>certbot's certificate is imported and renewed by the appliance (<c>Tls:Mode=Acme</c>).</summary>
    ImportAcme,

    /// <summary>A certificate nobody renews here (or renewed by DNS): copied and served as <c>Tls:Mode=Files</c>.</summary>
    CopyFiles,

    /// <summary>nginx had no certificate for the site: the appliance obtains one.</summary>
    IssueAcme,
}

internal sealed class SitePlan
{
    public required string Name { get; init; }
    public required NginxServer Server { get; init; }
    public List<NginxServer> Redirects { get; } = [];
    public required List<string> Domains { get; init; }
    public required OpenAlgoInstance Instance { get; init; }
    public required ProxyTarget Flask { get; init; }
    public List<string> FlaskLocations { get; } = [];
    public int? NginxWebSocketPort { get; set; }
    public List<string> WebSocketLocations { get; } = [];
    public int InternalPort { get; set; }
    public int NewWebSocketPort { get; set; }
    public CertbotLineage? Certificate { get; set; }
    public CertificateHandling CertificateHandling { get; set; }

    /// <summary>Per-site keys beyond the standard ones, with why (<c>Proxy:ReadTimeoutSeconds</c> from <c>proxy_read_timeout</c>).</summary>
    public List<(string Key, string Value, string Why)> Settings { get; } = [];

    /// <summary>What nginx did that the appliance does its own way, and warnings.</summary>
    public List<(string Kind, string Text)> Lines { get; } = [];

    public string EnvFile => Instance.Env.Path;

    /// <summary>The <c>.env</c> line as it is and as it will be (<c>WEBSOCKET_PORT='8765'</c> → <c>WEBSOCKET_PORT='8766'</c>).</summary>
    public string EnvBefore => Instance.Env.LineOf("WEBSOCKET_PORT") is int line
        ? $"{EnvFile}:{line}: WEBSOCKET_PORT={Instance.Env.RawValue("WEBSOCKET_PORT")}"
        : $"{EnvFile}: no WEBSOCKET_PORT (OpenAlgo's default 8765)";

    public string EnvAfter => Instance.Env.LineOf("WEBSOCKET_PORT") is not null
        ? $"WEBSOCKET_PORT={Requote(Instance.Env.RawValue("WEBSOCKET_PORT")!, NewWebSocketPort)}"
        : $"WEBSOCKET_PORT='{NewWebSocketPort}' appended";

    public string UpstreamUrl => $"ws://127.0.0.1:{NewWebSocketPort}";

    public string InternalListener => $"127.0.0.1:{InternalPort}";

    private static string Requote(string raw, int port) =>
        raw.Length > 0 && raw[0] is '\'' or '"' ? $"{raw[0]}{port}{raw[0]}" : port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Something nginx does that the appliance will not: a server block, a location, a directive.</summary>
internal sealed record Unmigrated(string Where, string What, string Reason, bool Blocking);

/// <summary>A server block on ports the appliance leaves alone: nginx keeps serving it.</summary>
internal sealed record KeptServer(NginxServer Server, string Reason);
