using System.Collections;
using Microsoft.Extensions.Configuration;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// <c>Appliance__Section__Key</c> environment variables (arrays as <c>__0</c>, <c>__1</c>). Like the
/// framework's environment source, but reading an injectable dictionary so tests can run many
/// appliances in one process without touching the real environment.
/// </summary>
internal sealed class PrefixedEnvironmentSource(string prefix, IDictionary? environment) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(prefix, environment ?? Environment.GetEnvironmentVariables());

    internal sealed class Provider(string prefix, IDictionary environment) : ConfigurationProvider
    {
        /// <summary>The variable that sets <paramref name="key"/>: Appliance:Limits:MaxClients → Appliance__Limits__MaxClients.</summary>
        public string VariableOf(string key) =>
            prefix + (key.StartsWith("Appliance:", StringComparison.OrdinalIgnoreCase) ? key["Appliance:".Length..] : key).Replace(":", "__", StringComparison.Ordinal);

        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry entry in environment)
            {
                if (entry.Key is string name && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    data["Appliance:" + name[prefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = entry.Value as string;
                }
            }
            Data = data;
        }
    }
}
