namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// The file an operator edits to change this process's configuration, for messages that tell them
/// what to set: <c>--config FILE</c> when given, else <c>appsettings.{Environment}.json</c> in the
/// configuration directory (the package's <c>/etc/openalgo-appliance</c> under systemd).
/// </summary>
internal sealed record ConfigurationOrigin(string FileToEdit)
{
    public static ConfigurationOrigin Package { get; } = new("/etc/openalgo-appliance/appsettings.Production.json");
}
