using OpenAlgo.Appliance.Migration.Discovery;
using OpenAlgo.Appliance.Migration.Planning;

namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// The order of <c>--apply</c>. Everything that changes no running program comes first
/// (configuration, certificates, .env files). Then OpenAlgo restarts while nginx still serves the
/// web app (only <c>/ws</c> waits for the proxies), nginx stops and the appliance starts straight
/// after — so the server is without a front only between those two commands, well under a restart.
/// </summary>
internal static class MigrationSteps
{
    /// <param name="applianceRunning">Whether the appliance runs now (what the rollback puts back); a rehearsal cannot ask, and takes an enabled one as running.</param>
    public static List<MigrationStep> For(MigrationPlan plan, SystemRoot root, Func<string, IReadOnlyList<string>> check, TimeSpan proxyWait, bool? applianceRunning = null)
    {
        var steps = new List<MigrationStep> { new PrepareStateStep() };
        // Certificates before the configuration: check wants a Files-mode site's files to exist.
        foreach (var site in plan.Sites)
        {
            switch (site.CertificateHandling)
            {
                case CertificateHandling.ImportAcme: steps.Add(new ImportCertificateStep(site)); break;
                case CertificateHandling.CopyFiles: steps.Add(new CopyCertificateStep(site)); break;
            }
        }
        steps.Add(new WriteConfigurationStep(plan, check));
        foreach (var site in plan.Sites) steps.Add(new EditEnvironmentStep(site));
        foreach (var entry in plan.NginxEntriesToDisable) steps.Add(new DisableNginxEntryStep(entry));
        foreach (var renewal in plan.RenewalFilesToPark) steps.Add(new ParkRenewalStep(renewal));
        steps.Add(new RestartOpenAlgoStep(plan));
        steps.Add(new NginxStep(plan, SystemdUnit.IsEnabled(root, plan.NginxService)));
        bool enabled = SystemdUnit.IsEnabled(root, MigrationPlan.ApplianceService);
        steps.Add(new StartApplianceStep(enabled, applianceRunning ?? enabled));
        foreach (var timer in plan.CertbotTimers) steps.Add(new CertbotTimerStep(timer));
        steps.Add(new WaitForProxiesStep(plan, proxyWait));
        steps.Add(new VerifySitesStep(plan));
        return steps;
    }
}
