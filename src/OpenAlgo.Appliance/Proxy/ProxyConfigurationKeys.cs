using System.Globalization;
using System.Runtime.CompilerServices;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>
/// The <c>Proxy:*</c> keys, added to <see cref="ConfigurationKeys"/> so
/// <c>check</c> knows them and <c>show-config</c> prints them. A module initializer, because
/// those commands read the table without building the host (no service registration runs).
/// </summary>
internal static class ProxyConfigurationKeys
{
    [ModuleInitializer]
    internal static void Register() => ConfigurationKeys.Extensions.AddRange(
    [
        ("Proxy:Upstream", (o, _) => o.Proxy.Upstream, false),
        ("Proxy:RequireSessionForSocketIo", (o, _) => o.Proxy.RequireSessionForSocketIo ? "true" : "false", false),
        ("Proxy:SessionCheckPath", (o, _) => o.Proxy.SessionCheckPath, false),
        ("Proxy:SessionCacheSeconds", (o, _) => Number(o.Proxy.SessionCacheSeconds), false),
        ("Proxy:MaxRequestBodyBytes", (o, _) => Number(o.Proxy.MaxRequestBodyBytes), false),
        ("Proxy:ReadTimeoutSeconds", (o, _) => Number(o.Proxy.ReadTimeoutSeconds), false),
        ("Proxy:UpgradeIdleTimeoutSeconds", (o, _) => Number(o.Proxy.UpgradeIdleTimeoutSeconds), false),
    ]);

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
