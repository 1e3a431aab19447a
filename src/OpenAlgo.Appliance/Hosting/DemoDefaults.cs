namespace OpenAlgo.Appliance.Hosting;

/// <summary>What <c>openalgo-appliance demo</c> runs on: loopback ports a normal user may bind, self-signed TLS, simulated ticks.</summary>
internal static class DemoDefaults
{
    public const string UserId = "demo";
    public const string Broker = "demo";

    public static Dictionary<string, string?> Values => new()
    {
        ["Appliance:Listen:Https"] = "127.0.0.1:8443",
        ["Appliance:Listen:Http"] = "127.0.0.1:8080",
        ["Appliance:Listen:Internal"] = "127.0.0.1:8765",
        ["Appliance:Tls:Mode"] = "SelfSigned",
        ["Appliance:Tls:Domains:0"] = "localhost",
        ["Appliance:MarketData:Source"] = "Simulated",
        ["Appliance:Auth:Mode"] = "StaticKeys",
    };
}
