using System.Globalization;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Every configuration key the appliance reads, with how to show its effective value. Written out
/// rather than reflected (native AOT), and kept complete by a test that walks <see cref="ApplianceOptions"/>.
/// <c>check</c> uses it to catch unknown keys (typos), <c>show-config</c> to print values.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>Keys relative to the <c>Appliance</c> section; <c>*</c> stands for an array index.</summary>
    public static readonly IReadOnlyList<(string Key, Func<ApplianceOptions, int, string?> Value, bool Secret)> All =
    [
        ("Listen:Https", (o, _) => o.Listen.Https, false),
        ("Listen:Http", (o, _) => o.Listen.Http, false),
        ("Listen:Internal", (o, _) => o.Listen.Internal, false),
        ("Tls:Mode", (o, _) => o.Tls.Mode, false),
        ("Tls:Domains:*", (o, i) => At(o.Tls.Domains, i), false),
        ("Tls:CertificateFile", (o, _) => o.Tls.CertificateFile, false),
        ("Tls:KeyFile", (o, _) => o.Tls.KeyFile, false),
        ("Tls:Acme:DirectoryUrl", (o, _) => o.Tls.Acme.DirectoryUrl, false),
        ("Tls:Acme:Email", (o, _) => o.Tls.Acme.Email, false),
        ("Tls:Acme:AcceptTermsOfService", (o, _) => Bool(o.Tls.Acme.AcceptTermsOfService), false),
        ("Tls:Acme:TrustedRootsFile", (o, _) => o.Tls.Acme.TrustedRootsFile, false),
        ("Tls:Acme:ChallengeTypes", (o, _) => o.Tls.Acme.ChallengeTypes, false),
        ("Tls:Acme:EabKeyId", (o, _) => o.Tls.Acme.EabKeyId, false),
        ("Tls:Acme:EabHmacKey", (o, _) => o.Tls.Acme.EabHmacKey, true),
        ("MarketData:Source", (o, _) => o.MarketData.Source, false),
        ("MarketData:ZmqEndpoint", (o, _) => o.MarketData.ZmqEndpoint, false),
        ("MarketData:OpenAlgoUpstreamUrl", (o, _) => o.MarketData.OpenAlgoUpstreamUrl, false),
        ("MarketData:SimulatedTicksPerSecond", (o, _) => Number(o.MarketData.SimulatedTicksPerSecond), false),
        ("MarketData:SupportedBrokers", (o, _) => o.MarketData.SupportedBrokers, false),
        ("MarketData:StatsFile", (o, _) => o.MarketData.StatsFile, false),
        ("Auth:Mode", (o, _) => o.Auth.Mode, false),
        ("Auth:StaticKeys:*:Key", (o, i) => i < o.Auth.StaticKeys.Count ? o.Auth.StaticKeys[i].Key : null, true),
        ("Auth:StaticKeys:*:UserId", (o, i) => i < o.Auth.StaticKeys.Count ? o.Auth.StaticKeys[i].UserId : null, false),
        ("Auth:StaticKeys:*:Broker", (o, i) => i < o.Auth.StaticKeys.Count ? o.Auth.StaticKeys[i].Broker : null, false),
        ("Auth:DatabasePath", (o, _) => o.Auth.DatabasePath, false),
        ("Auth:ApiKeyPepper", (o, _) => o.Auth.ApiKeyPepper, true),
        ("Limits:MaxClients", (o, _) => Number(o.Limits.MaxClients), false),
        ("Limits:MaxClientsPerUser", (o, _) => Number(o.Limits.MaxClientsPerUser), false),
        ("Limits:MaxSymbolsPerClient", (o, _) => Number(o.Limits.MaxSymbolsPerClient), false),
        ("Limits:SymbolsPerUpstreamConnection", (o, _) => Number(o.Limits.SymbolsPerUpstreamConnection), false),
        ("Limits:UpstreamConnectionsPerUser", (o, _) => Number(o.Limits.UpstreamConnectionsPerUser), false),
        ("Limits:MaxMessageBytes", (o, _) => Number(o.Limits.MaxMessageBytes), false),
        ("Limits:MaxSymbolsPerMessage", (o, _) => Number(o.Limits.MaxSymbolsPerMessage), false),
        ("Limits:MaxKeysPerObject", (o, _) => Number(o.Limits.MaxKeysPerObject), false),
        ("Limits:AuthGraceSeconds", (o, _) => Number(o.Limits.AuthGraceSeconds), false),
        ("Limits:PingIntervalSeconds", (o, _) => Number(o.Limits.PingIntervalSeconds), false),
        ("Limits:PingTimeoutSeconds", (o, _) => Number(o.Limits.PingTimeoutSeconds), false),
        ("Limits:IdleTimeoutSeconds", (o, _) => Number(o.Limits.IdleTimeoutSeconds), false),
        ("Limits:MaxMessagesPerSecond", (o, _) => Number(o.Limits.MaxMessagesPerSecond), false),
        ("Limits:MessageBurst", (o, _) => Number(o.Limits.MessageBurst), false),
        ("Limits:ClientQueueFrames", (o, _) => Number(o.Limits.ClientQueueFrames), false),
        ("Limits:SlowClientTimeoutSeconds", (o, _) => Number(o.Limits.SlowClientTimeoutSeconds), false),
        ("Limits:CloseTimeoutSeconds", (o, _) => Number(o.Limits.CloseTimeoutSeconds), false),
        ("Security:AllowedOrigins:*", (o, i) => At(o.Security.AllowedOrigins, i), false),
        ("Security:CheckWsOrigin", (o, _) => Bool(o.Security.CheckWsOrigin), false),
        ("StateDirectory", (o, _) => o.StateDirectory, false),
        ("LogsDirectory", (o, _) => o.LogsDirectory, false),
        ("LogLevel", (o, _) => o.LogLevel, false),
    ];

    /// <summary>Extra keys owned by features that register them (the proxy adds its own).</summary>
    public static readonly List<(string Key, Func<ApplianceOptions, int, string?> Value, bool Secret)> Extensions = [];

    public static IEnumerable<(string Key, Func<ApplianceOptions, int, string?> Value, bool Secret)> Known => All.Concat(Extensions);

    /// <summary>The pattern a concrete key matches: array indices become <c>*</c>.</summary>
    public static string Pattern(string key) =>
        string.Join(':', key.Split(':').Select(part => part.Length > 0 && part.All(char.IsAsciiDigit) ? "*" : part));

    private static string? At(List<string> list, int index) => index < list.Count ? list[index] : null;
    private static string Bool(bool value) => value ? "true" : "false";
    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
