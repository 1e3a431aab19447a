using Microsoft.Extensions.Hosting;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Stats;

public sealed class ProxyStatsWriterTests
{
    [Fact]
    public async Task Writes_openalgos_stats_file_shape_with_live_counts()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("oa-stats-").FullName, "log", "ws_proxy_stats.json");
        await using var appliance = await TestAppliance.StartAsync(o => o.MarketData.StatsFile = file);
        await using var a = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var b = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var idle = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await a.AuthenticateAsync("testkey");
        await b.AuthenticateAsync("otherkey");
        await a.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"A\", \"exchange\": \"NSE\"}, {\"symbol\": \"B\", \"exchange\": \"NSE\"}], \"mode\": 1}");
        await b.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"A\", \"exchange\": \"NSE\"}], \"mode\": 3}");
        await Task.Delay(100); // routing follows the ack

        var writer = appliance.Services.GetServices<IHostedService>().OfType<OpenAlgo.Appliance.MarketData.Stats.ProxyStatsWriter>().Single();
        writer.Write(); // what the 10 s timer does
        string json = File.ReadAllText(file);
        // {"timestamp": <float epoch s>, "total_connections": users, "total_symbols": (symbol, exchange, mode) keys, "clients_connected": sockets, "brokers": [...]}
        var match = Regex.Match(json, "^\\{\"timestamp\": (\\d+\\.\\d+), \"total_connections\": 2, \"total_symbols\": 3, \"clients_connected\": 3, \"brokers\": \\[(\"fakebroker\", \"zerodha\"|\"zerodha\", \"fakebroker\")\\]\\}$");
        Assert.True(match.Success, json);
        Assert.InRange(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
    }
}
