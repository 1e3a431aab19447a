using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>Sites as a test configures them: each its own domain, API key, internal port and ZeroMQ endpoint.</summary>
internal static class TestSites
{
    /// <summary>A site named <paramref name="name"/> for <paramref name="domain"/> whose one key <paramref name="key"/> belongs to <paramref name="user"/>.</summary>
    public static SiteOptions New(string name, string domain, string key, string user, Action<SiteOptions>? configure = null)
    {
        var site = new SiteOptions { Name = name };
        site.Listen.Internal = $"127.0.0.1:{TestAppliance.FreeTcpPort()}";
        site.Tls.Domains = [domain];
        site.MarketData.Source = MarketDataSourceKind.Zmq;
        site.MarketData.ZmqEndpoint = $"tcp://127.0.0.1:{TestAppliance.FreeTcpPort()}";
        site.Auth.StaticKeys = [new StaticKeyOptions { Key = key, UserId = user, Broker = "fakebroker" }];
        site.Limits.PingIntervalSeconds = 0;
        configure?.Invoke(site);
        return site;
    }

    public static string Authenticate(string key) => $"{{\"action\": \"authenticate\", \"api_key\": \"{key}\"}}";

    public static string Subscribe(string symbol, int mode = 1) => $"{{\"action\": \"subscribe\", \"symbol\": \"{symbol}\", \"exchange\": \"NSE\", \"mode\": {mode}}}";
}
