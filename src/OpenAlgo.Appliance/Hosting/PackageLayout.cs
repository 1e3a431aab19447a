using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Infrastructure;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// The directories of a package install (the unit's <c>StateDirectory=</c> and <c>LogsDirectory=</c>).
/// A command run by hand there (<c>import-certificate</c>, <c>verify</c>) has no <c>$STATE_DIRECTORY</c>
/// or <c>$LOGS_DIRECTORY</c>, so the built-in <c>./state</c> and <c>./logs</c> would point into
/// whatever directory the operator is in; these are where the service keeps them.
/// </summary>
internal static class PackageLayout
{
    public const string StateDirectory = "/var/lib/openalgo-appliance";
    public const string LogsDirectory = "/var/log/openalgo-appliance";

    /// <summary>
    /// <paramref name="bound"/> (already absolute) unless the key was left unset, systemd did not
    /// pass <paramref name="systemdVariable"/>, and the configuration came from the package's
    /// /etc/openalgo-appliance: then <paramref name="packageDirectory"/>.
    /// </summary>
    public static string Resolve(IConfiguration configuration, string key, string systemdVariable, string packageDirectory, string bound)
    {
        // The bound value is already absolute (./state made absolute), so the default is recognised by its source.
        bool configured = !string.IsNullOrWhiteSpace(configuration[$"{ApplianceOptions.SectionName}:{key}"]);
        if (!configured && SystemdDirectory.Get(systemdVariable) is null && ApplianceApp.ConfigurationDirectory() == ApplianceApp.PackageConfigurationDirectory)
        {
            return packageDirectory;
        }
        return bound;
    }
}
