using System.Net.Sockets;
using OpenAlgo.Appliance.Migration.Discovery;
using OpenAlgo.Appliance.Migration.Planning;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// Makes the state directory the service's own before anything is written into it (so systemd's
/// first start does not chown the tree, backups included) and the migration's directory root-only.
/// </summary>
internal sealed class PrepareStateStep : MigrationStep
{
    public override string Description => $"prepare {MigrationPlan.StateDirectory} (the service's) and {MigrationPlan.MigrationDirectory} (root only: backups and the undo journal)";

    public override void Run(ApplyContext context)
    {
        // A migration rolled back earlier: its backups and script are kept for the record, inside the
        // migration directory (which the service's unit hides from it).
        if (context.Root.DirectoryExists(MigrationPlan.MigrationDirectory))
        {
            string stamp = context.Time.GetUtcNow().ToString("yyyyMMddTHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            string temporary = $"{MigrationPlan.StateDirectory}/.migration-{stamp}";
            string earlier = $"{MigrationPlan.MigrationDirectory}/earlier-{stamp}";
            Directory.Move(context.Root.Map(MigrationPlan.MigrationDirectory), context.Root.Map(temporary));
            if (context.Root.FileExists(MigrationPlan.RollbackScript)) File.Move(context.Root.Map(MigrationPlan.RollbackScript), context.Root.Map(temporary + "/rollback.sh"), overwrite: true);
            context.CreatePrivateDirectories(MigrationPlan.MigrationDirectory);
            Directory.Move(context.Root.Map(temporary), context.Root.Map(earlier));
            context.Output.WriteLine($"  the earlier migration's backups and rollback.sh moved to {earlier}");
        }
        bool created = !context.Root.DirectoryExists(MigrationPlan.StateDirectory);
        context.CreatePrivateDirectories(MigrationPlan.StateDirectory);
        if (created)
        {
            File.SetUnixFileMode(context.Root.Map(MigrationPlan.StateDirectory), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            SiteStore.HandOver(context, MigrationPlan.StateDirectory, recursive: false);
        }
        context.CreatePrivateDirectories(ApplyContext.BackupDirectory);
    }
}

/// <summary>Restarts the OpenAlgo services so their proxies read the new <c>WEBSOCKET_PORT</c>; waits until the old ports are free.</summary>
internal sealed class RestartOpenAlgoStep(MigrationPlan plan) : MigrationStep
{
    private static readonly TimeSpan FreeWithin = TimeSpan.FromSeconds(60);

    private string[] Command => ["systemctl", "restart", .. plan.ServicesToRestart];

    public override string Description => $"restart {string.Join(", ", plan.ServicesToRestart)}: OpenAlgo's proxies move to their new ports (nginx stays in front meanwhile)";

    public override IEnumerable<string> Commands => [string.Join(' ', Command)];

    public override void Run(ApplyContext context)
    {
        // After the .env restore, the same restart brings the proxies back to their old ports.
        context.Journal.Add(new RunCommand(Command, "OpenAlgo's proxies back on their old ports"));
        context.Commands.Require(Command);
        if (!context.Commands.Live) return;
        var ports = plan.Sites.Select(s => s.InternalPort).ToHashSet();
        var deadline = context.Time.GetUtcNow() + FreeWithin;
        while (true)
        {
            var busy = ListeningPorts.Read(context.Root).Intersect(ports).ToList();
            if (busy.Count == 0) return;
            if (context.Time.GetUtcNow() > deadline)
            {
                throw new MigrationException($"port {string.Join(", ", busy)} still in use {FreeWithin.TotalSeconds:0} s after the restart: is another program (not OpenAlgo's proxy) listening there? ss -ltnp | grep {busy[0]}");
            }
            Thread.Sleep(250);
        }
    }
}

/// <summary>Stops and disables nginx (or reloads it without the migrated server blocks when it keeps serving others).</summary>
internal sealed class NginxStep(MigrationPlan plan, bool wasEnabled) : MigrationStep
{
    public override string Description => plan.NginxKeepsRunning
        ? $"check and reload nginx without the migrated server blocks (it keeps {string.Join(", ", plan.Kept.Select(k => k.Server.Label))})"
        : $"stop and disable nginx{(wasEnabled ? "" : " (it was not enabled: only stopped)")}";

    public override IEnumerable<string> Commands => plan.NginxKeepsRunning
        ? ["nginx -t", $"systemctl reload {plan.NginxService}"]
        : [wasEnabled ? $"systemctl disable --now {plan.NginxService}" : $"systemctl stop {plan.NginxService}"];

    public override void Run(ApplyContext context)
    {
        if (plan.NginxKeepsRunning)
        {
            context.Journal.Add(new RunCommand(["systemctl", "reload", plan.NginxService], "nginx serves the OpenAlgo sites again"));
            context.Commands.Require(["nginx", "-t"]);
            context.Commands.Require(["systemctl", "reload", plan.NginxService]);
            return;
        }
        context.Journal.Add(new RunCommand(wasEnabled ? ["systemctl", "enable", "--now", plan.NginxService] : ["systemctl", "start", plan.NginxService], "nginx back on 80/443"));
        context.Commands.Require(wasEnabled ? ["systemctl", "disable", "--now", plan.NginxService] : ["systemctl", "stop", plan.NginxService]);
    }
}

/// <summary>Stops certbot's renewal timer (apt's or RHEL's with systemctl, snap's with snap, which would re-enable a timer only systemctl disabled).</summary>
internal sealed class CertbotTimerStep(string timer) : MigrationStep
{
    private bool Snap => timer.StartsWith("snap.", StringComparison.Ordinal);

    private string[] Stop => Snap ? ["snap", "stop", "--disable", "certbot.renew"] : ["systemctl", "disable", "--now", timer];

    private string[] Start => Snap ? ["snap", "start", "--enable", "certbot.renew"] : ["systemctl", "enable", "--now", timer];

    public override string Description => $"stop certbot's {timer}: the appliance renews the certificates now";

    public override IEnumerable<string> Commands => [string.Join(' ', Stop)];

    public override void Run(ApplyContext context)
    {
        context.Journal.Add(new RunCommand(Start, "certbot renews again"));
        context.Commands.Require(Stop);
    }
}

/// <summary>
/// Enables and (re)starts the appliance (Type=notify: systemctl returns once every listener is
/// bound). A restart, not <c>enable --now</c>: a service already running would keep its old configuration.
/// </summary>
internal sealed class StartApplianceStep(bool wasEnabled, bool wasRunning) : MigrationStep
{
    public static readonly string[] Units =
    [
        MigrationPlan.ApplianceService, "openalgo-appliance-https.socket", "openalgo-appliance-http.socket", "openalgo-appliance-internal.socket",
    ];

    public override string Description => "enable and start the appliance";

    public override IEnumerable<string> Commands => [$"systemctl enable {MigrationPlan.ApplianceService}", $"systemctl restart {MigrationPlan.ApplianceService}"];

    public override void Run(ApplyContext context)
    {
        // Running before (a tarball install, an earlier trial): back on its restored configuration.
        // Enabled but not running (it never started on the package's empty configuration): stopped
        // again, still enabled. Else off again.
        context.Journal.Add(wasRunning
            ? new RunCommand(["systemctl", "restart", MigrationPlan.ApplianceService], "the appliance back on its earlier configuration")
            : wasEnabled
                ? new RunCommand(["systemctl", "stop", .. Units], "the appliance releases 80/443 and the internal ports (enabled, as before)")
                : new RunCommand(["systemctl", "disable", "--now", .. Units], "the appliance releases 80/443 and the internal ports"));
        context.Commands.Require(["systemctl", "enable", MigrationPlan.ApplianceService]);
        context.Commands.Require(["systemctl", "restart", MigrationPlan.ApplianceService]);
    }
}

/// <summary>Waits for each OpenAlgo proxy on its new port: proof the .env edit took, before clients are told all is well.</summary>
internal sealed class WaitForProxiesStep(MigrationPlan plan, TimeSpan within) : MigrationStep
{
    public override string Description => $"wait up to {within.TotalSeconds:0} s for OpenAlgo's proxies on {string.Join(", ", plan.Sites.Select(s => s.UpstreamUrl))}";

    public override void Run(ApplyContext context)
    {
        if (!context.Commands.Live)
        {
            context.Output.WriteLine("  (--root: not checked)");
            return;
        }
        var deadline = context.Time.GetUtcNow() + within;
        foreach (var site in plan.Sites)
        {
            while (!Listening(site.NewWebSocketPort))
            {
                if (context.Time.GetUtcNow() > deadline)
                {
                    throw new MigrationException($"OpenAlgo's proxy of {site.Instance.Unit.Name} is not listening on 127.0.0.1:{site.NewWebSocketPort} {within.TotalSeconds:0} s after the restart: journalctl -u {site.Instance.Unit.Name} says why");
                }
                Thread.Sleep(500);
            }
            context.Output.WriteLine($"  {site.Instance.Unit.Name}: OpenAlgo's proxy listens on 127.0.0.1:{site.NewWebSocketPort}");
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
