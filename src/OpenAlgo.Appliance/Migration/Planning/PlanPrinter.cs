using OpenAlgo.Appliance.Migration.Applying;

namespace OpenAlgo.Appliance.Migration.Planning;

/// <summary>The plan as text: sites, what is not migrated and why, ports, the apply steps, the configuration.</summary>
internal static class PlanPrinter
{
    public static void Print(MigrationPlan plan, IReadOnlyList<MigrationStep> steps, TextWriter output, bool apply)
    {
        output.WriteLine(apply ? "openalgo-appliance migrate --apply" : "openalgo-appliance migrate: dry run, nothing is changed (--apply carries the plan out)");
        output.WriteLine($"nginx: {plan.NginxSource}");
        output.WriteLine($"  files read: {string.Join(", ", plan.NginxFiles)}");

        foreach (var site in plan.Sites)
        {
            output.WriteLine();
            output.WriteLine($"site {site.Name}");
            Row(output, "nginx", string.Join("; ", site.Redirects.Prepend(site.Server).Select(s => $"{s.Where} ({(s.ListensSsl ? "https" : "http")})")));
            Row(output, "domains", string.Join(", ", site.Domains));
            Row(output, "OpenAlgo", $"{site.Instance.Unit.Name} ({site.Instance.Unit.Path}), .env {site.EnvFile} (from {site.Instance.EnvSource})");
            Row(output, "web app", $"{site.Flask.ApplianceUpstream} ({string.Join(", ", site.FlaskLocations)})");
            Row(output, "market data", (site.WebSocketLocations.Count > 0 ? string.Join(", ", site.WebSocketLocations) : "/ws (new)")
                + $" → the site's hub, fed by OpenAlgo's proxy moved from 127.0.0.1:{site.Instance.WebSocketPort} to 127.0.0.1:{site.NewWebSocketPort} (MarketData:Source=OpenAlgo, Auth:Mode=Upstream)");
            Row(output, "internal", $"ws://{site.InternalListener} (Listen:Internal: local clients of this instance keep their address)");
            Row(output, "certificate", Certificate(site));
            Row(output, ".env", $"{site.EnvBefore} → {site.EnvAfter} (nothing else changes)");
            foreach (var (key, value, why) in site.Settings) Row(output, "setting", $"{key} = {value} ({why})");
            foreach (var (kind, text) in site.Lines) Row(output, kind, text);
        }

        if (plan.NotMigrated.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("not migrated");
            foreach (var item in plan.NotMigrated)
            {
                output.WriteLine($"  {(item.Blocking ? "BLOCKS --apply: " : "")}{item.Where} {item.What}: {item.Reason}");
            }
        }
        if (plan.Kept.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("kept by nginx (it keeps running for these; the migrated server blocks leave it)");
            foreach (var kept in plan.Kept) output.WriteLine($"  {kept.Server.Where} {MigrationPlanner.Describe(kept.Server)}: {kept.Reason}");
        }
        if (plan.Notes.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("notes");
            foreach (var note in plan.Notes) output.WriteLine($"  {note}");
        }

        if (plan.Sites.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("listeners");
            foreach (var line in plan.ListenNotes) output.WriteLine($"  {line}");
            foreach (var site in plan.Sites) output.WriteLine($"  {site.Name}: internal {site.InternalListener}, OpenAlgo's proxy {site.UpstreamUrl}");
            if (plan.AcmeNote is not null) output.WriteLine($"  ACME account: {plan.AcmeNote}");

            output.WriteLine();
            output.WriteLine($"steps of --apply (rollback.sh: {MigrationPlan.RollbackScript})");
            for (int i = 0; i < steps.Count; i++)
            {
                output.WriteLine($"  {i + 1,2}. {steps[i].Description}");
                foreach (var command in steps[i].Commands) output.WriteLine($"      {command}");
            }

            output.WriteLine();
            output.WriteLine($"configuration ({MigrationPlan.ConfigurationFile})");
            output.Write(plan.ConfigurationJson);
        }

        output.WriteLine();
        if (plan.AlreadyMigrated is not null)
        {
            output.WriteLine($"This server was migrated already ({plan.AlreadyMigrated}). To start over: sudo sh {MigrationPlan.RollbackScript}, then migrate again.");
        }
        else if (plan.Sites.Count == 0)
        {
            output.WriteLine("Nothing to migrate: no enabled nginx server block proxies to an OpenAlgo instance" + (plan.Blocking.Any() ? " that can be migrated (see above)." : "."));
        }
        else if (plan.Blocking.Any())
        {
            output.WriteLine($"--apply refuses while {plan.Blocking.Count()} item(s) above say BLOCKS: nginx does that and the appliance would not. Change them in nginx's configuration (nginx -t; systemctl reload nginx), then run migrate again.");
        }
        else if (!apply)
        {
            output.WriteLine("Ready: sudo openalgo-appliance migrate --apply");
        }
    }

    private static string Certificate(SitePlan site)
    {
        var c = site.Certificate;
        string names = c is null ? "" : $", names {string.Join(" ", c.Names)}, valid until {c.NotAfter:yyyy-MM-dd}";
        return site.CertificateHandling switch
        {
            CertificateHandling.ImportAcme => $"import {c!.CertificateFile} (certbot lineage {c.Name}{names}); then renewed by the appliance (Tls:Mode=Acme)",
            CertificateHandling.CopyFiles => $"copy {c!.CertificateFile}{names} to {ConfigurationWriter.CertificateCopy(site, "fullchain.pem")} (Tls:Mode=Files)",
            _ => "none to import: obtained by the appliance over ACME when it starts (Tls:Mode=Acme)",
        };
    }

    private static void Row(TextWriter output, string label, string text) => output.WriteLine($"  {label,-12} {text}");
}
