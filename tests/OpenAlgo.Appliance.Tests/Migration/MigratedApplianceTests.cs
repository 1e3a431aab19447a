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
                // A Host of another site on this site's TLS connection reaches neither app.
                foreach (var other in sites.Where(o => o != site))
                {
                    Assert.StartsWith("HTTP/1.1 421", await RawRequestAsync(https, site.Domains[0], other.Domains[0], "/echo"));
                }
            }

            // Every site's clients at once, /ws and the internal listener, all subscribed to the same
            // symbol: each site's bus publishes its own price, and every client sees only its site's.
            var clients = new List<(int Site, string Door, WsTestClient Client)>();
            try
            {
                for (int i = 0; i < sites.Count; i++)
                {
                    var site = sites[i];
                    var ws = await WsTestClient.ConnectAsync(new Uri($"wss://{site.Domains[0]}:{https}/ws"), dial);
                    clients.Add((i, "/ws", ws));
                    Assert.Contains($"\"user_id\": \"user{i + 1}\"", await ws.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{site.Key}\"}}"));
                    var local = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{site.Internal}/"));
                    clients.Add((i, "internal", local));
                    Assert.Contains($"\"user_id\": \"user{i + 1}\"", await local.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{site.Key}\"}}"));
                    foreach (var client in new[] { ws, local })
                    {
                        Assert.Contains("\"status\": \"success\"", await client.AskAsync("{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"RELIANCE\", \"exchange\": \"NSE\"}], \"mode\": 1}"));
                    }
                    // Another site's key is not this site's, on either door.
                    foreach (var other in sites.Where(o => o != site))
                    {
                        await using var stranger = await WsTestClient.ConnectAsync(new Uri($"wss://{site.Domains[0]}:{https}/ws"), dial);
                        Assert.Contains("Invalid API key", await stranger.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{other.Key}\"}}"));
                        await using var localStranger = await WsTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{site.Internal}/"));
                        Assert.Contains("Invalid API key", await localStranger.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{other.Key}\"}}"));
                    }
                }
                var buses = sites.Select(s => new BusPublisher(s.Origin.ZmqEndpoint)).ToList();
                try
                {
                    for (int i = 0; i < sites.Count; i++)
                    {
                        string price = Price(i);
                        string tick = await buses[i].PublishUntilReceivedAsync(clients.First(c => c.Site == i && c.Door == "/ws").Client, "NSE_RELIANCE_LTP", $"{{\"ltp\": {price}, \"ltt\": 1746171226000}}");
                        Assert.Contains($"\"ltp\": {price}", tick);
                        string internalTick = await clients.First(c => c.Site == i && c.Door == "internal").Client.ReceiveAsync();
                        Assert.Contains($"\"ltp\": {price}", internalTick);
                    }
                    // One more tick per site after every site is warm, then everything each client got.
                    for (int i = 0; i < sites.Count; i++) buses[i].Publish("NSE_RELIANCE_LTP", $"{{\"ltp\": {Price(i)}, \"ltt\": 1746171227000}}");
                    foreach (var (i, door, client) in clients)
                    {
                        var received = await DrainAsync(client);
                        Assert.True(received.Any(m => m.Contains("1746171227000", StringComparison.Ordinal)), $"site {sites[i].Name} {door} missed its site's last tick: {string.Join(" | ", received)}");
                        foreach (var message in received)
                        {
                            Assert.True(message.Contains($"\"ltp\": {Price(i)}", StringComparison.Ordinal), $"site {sites[i].Name} {door} got another site's tick: {message}");
                        }
                    }
                }
                finally
                {
                    foreach (var bus in buses) bus.Dispose();
                }
            }
            finally
            {
                foreach (var (_, _, client) in clients) await client.DisposeAsync();
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

    /// <summary>Site i's price: distinct per site, so a tick that crossed to another site shows.</summary>
    private static string Price(int site) => (1418.4 + site * 100).ToString("0.0#", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Everything that arrives until the client has been quiet for a second.</summary>
    private static async Task<List<string>> DrainAsync(WsTestClient client)
    {
        var messages = new List<string>();
        try
        {
            while (true) messages.Add(await client.ReceiveAsync(TimeSpan.FromSeconds(1)));
        }
        catch (TimeoutException)
        {
        }
        return messages;
    }

    /// <summary>One request on a TLS connection made for <paramref name="sni"/>, with another <paramref name="host"/>: the status line and headers.</summary>
    private static async Task<string> RawRequestAsync(int port, string sni, string host, string path)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions { TargetHost = sni });
        await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"));
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = await tls.ReadAsync(buffer, timeout.Token);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
    }
}
