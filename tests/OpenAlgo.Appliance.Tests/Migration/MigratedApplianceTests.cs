using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAlgo.Appliance.Tests.Proxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>
/// The appliance started on the configuration <c>migrate --apply</c> wrote, for each layout, serving
/// every site: the certbot certificate it imported (by SNI), the site's own Flask-SocketIO app on the
/// socket gunicorn used, <c>/ws</c> and the internal listener fed by that site's OpenAlgo proxy (a
/// stand-in speaking its protocol, fed by a real ZeroMQ publisher), HTTP redirected. What the
/// configuration names on <c>/</c> lives in the fixture's root and its ports are the machine's, so the
/// test moves exactly those (listen ports, the proxies' URLs, socket paths, state directory) and
/// nothing else; the ACME directory is pointed at nowhere, since imported certificates need no CA.
/// </summary>
public sealed class MigratedApplianceTests
{
    public static TheoryData<string> Layouts => MigrateFixtureTests.Layouts;

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task The_appliance_on_the_migrated_configuration_serves_every_site(string layout)
    {
        using var fixture = MigrationFixture.Create(layout);
        var apply = fixture.Migrate("--apply");
        Assert.True(apply.Exit == 0, apply.Stdout + apply.Stderr);

        var config = JsonNode.Parse(fixture.Read("/etc/openalgo-appliance/appsettings.Production.json"))!["Appliance"]!.AsObject();
        int https = TestAppliance.FreeTcpPort(), http = TestAppliance.FreeTcpPort();
        config["Listen"]!["Https"] = $"127.0.0.1:{https}";
        config["Listen"]!["Http"] = $"127.0.0.1:{http}";
        config["Listen"]!["Admin"] = "";
        config["Tls"]!["Acme"]!["DirectoryUrl"] = "https://127.0.0.1:9/directory";
        config["StateDirectory"] = fixture.Path("/var/lib/openalgo-appliance");
        config["LogsDirectory"] = fixture.Path("/var/log/openalgo-appliance");

        var flasks = new List<FlaskApp>();
        var origins = new List<TestAppliance>();
        var sites = new List<(string Name, string[] Domains, string Key, int Internal, TestAppliance Origin, FlaskApp Flask)>();
        try
        {
            int n = 0;
            foreach (var (name, node) in config["Sites"]!.AsObject().ToList())
            {
                n++;
                var site = node!.AsObject();
                string key = $"site{n}-key";
                // The site's OpenAlgo proxy: an appliance in Zmq mode speaking OpenAlgo's protocol, at the URL migrate chose (moved to a free port).
                int proxyPort = TestAppliance.FreeTcpPort();
                var origin = await TestAppliance.StartAsync(o =>
                {
                    o.Listen.Internal = $"127.0.0.1:{proxyPort}";
                    o.Auth.StaticKeys = [new() { Key = key, UserId = $"user{n}", Broker = "fakebroker" }];
                });
                origins.Add(origin);
                Assert.StartsWith("ws://127.0.0.1:", (string)site["MarketData"]!["OpenAlgoUpstreamUrl"]!);
                site["MarketData"]!["OpenAlgoUpstreamUrl"] = $"ws://127.0.0.1:{proxyPort}";
                int internalPort = TestAppliance.FreeTcpPort();
                site["Listen"]!["Internal"] = $"127.0.0.1:{internalPort}";
                string upstream = (string)site["Proxy"]!["Upstream"]!;
                Assert.StartsWith("unix:/", upstream);
                string socket = fixture.Path(upstream["unix:".Length..]);
                site["Proxy"]!["Upstream"] = "unix:" + socket;
                var flask = await FlaskApp.StartUnixAsync(socket, name);
                flasks.Add(flask);
                sites.Add((name, site["Tls"]!["Domains"]!.AsArray().Select(d => (string)d!).ToArray(), key, internalPort, origin, flask));
            }

            string work = Path.Combine(fixture.Root, "run");
            Directory.CreateDirectory(work);
            File.WriteAllText(Path.Combine(work, "appsettings.Production.json"), new JsonObject { ["Appliance"] = config.DeepClone() }.ToJsonString());
            using var appliance = ApplianceProcess.Start(work, new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Production" }, "run");
            await appliance.WaitForLineAsync("", TimeSpan.FromSeconds(1)).ContinueWith(_ => { });
            await Eventually.TrueAsync(() => appliance.Stdout.Contains(" ready: ", StringComparison.Ordinal) || appliance.HasExited, "the appliance ready", TimeSpan.FromSeconds(60));
            Assert.False(appliance.HasExited, appliance.Stdout + appliance.Stderr);

            using var http1 = LoopbackNames.Http();
            using var dial = new HttpMessageInvoker(LoopbackNames.Handler());
            foreach (var site in sites)
            {
                foreach (var domain in site.Domains)
                {
                    // The certificate certbot had for this name, imported by the migration.
                    var (leaf, error) = await LoopbackNames.HandshakeAsync(https, domain);
                    Assert.Null(error);
                    string lineage = fixture.Path($"/etc/letsencrypt/live/{site.Domains[0]}/cert.pem");
                    using var certbot = X509Certificate2.CreateFromPem(new OpenAlgo.Appliance.Migration.SystemRoot(fixture.Root).ReadAllText($"/etc/letsencrypt/live/{site.Domains[0]}/cert.pem"));
                    Assert.Equal(certbot.Thumbprint, leaf!.Thumbprint);

                    // The site's own Flask app, through gunicorn's socket.
                    var echo = await http1.GetFromJsonAsync<JsonElement>($"https://{domain}:{https}/echo");
                    Assert.Equal(site.Name, echo.GetProperty("app").GetString());
                    Assert.Equal("https", echo.GetProperty("headers").GetProperty("X-Forwarded-Proto").GetString());

                    // HTTP goes to HTTPS.
                    var redirect = await http1.GetAsync($"http://{domain}:{http}/dashboard");
                    Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
                    Assert.StartsWith($"https://{domain}", redirect.Headers.Location!.ToString());
                }

                // /ws: the site's key, relayed to the site's OpenAlgo proxy; its ticks arrive.
                await using var ws = await WsTestClient.ConnectAsync(new Uri($"wss://{site.Domains[0]}:{https}/ws"), dial);
                Assert.Contains($"\"user_id\": \"user{sites.IndexOf(site) + 1}\"", await ws.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{site.Key}\"}}"));
                Assert.Contains("\"status\": \"success\"", await ws.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 1}"));
                using (var bus = new BusPublisher(site.Origin.ZmqEndpoint))
                {
                    string tick = await bus.PublishUntilReceivedAsync(ws, "NSE_RELIANCE_LTP", "{\"ltp\": 1418.4, \"ltt\": 1746171226000}");
                    Assert.Contains("\"ltp\": 1418.4", tick);
                }
                // Another site's key is not this site's.
                foreach (var other in sites.Where(o => o != site))
                {
                    await using var stranger = await WsTestClient.ConnectAsync(new Uri($"wss://{site.Domains[0]}:{https}/ws"), dial);
                    Assert.Contains("Invalid API key", await stranger.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{other.Key}\"}}"));
                }
                // The internal listener where the instance's proxy used to be: same site.
                await using var local = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{site.Internal}/"));
                Assert.Contains("\"status\": \"success\"", await local.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{site.Key}\"}}"));
            }
            appliance.Terminate();
            Assert.Equal(0, await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            foreach (var flask in flasks) flask.Dispose();
            foreach (var origin in origins) await origin.DisposeAsync();
        }
    }
}
