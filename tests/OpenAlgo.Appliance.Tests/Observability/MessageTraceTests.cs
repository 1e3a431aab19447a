using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Observability.Trace;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// <c>Logging:MessageTrace</c> through a running appliance: real clients on real sockets, a real bus,
/// the trace file read back from <c>LogsDirectory</c>.
/// </summary>
public sealed partial class MessageTraceTests
{
    /// <summary>A key shaped like OpenAlgo's (64 hex digits), new per test.</summary>
    private static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static Task<TestAppliance> StartAsync(Action<MessageTraceSection> trace, Action<ApplianceOptions>? configure = null, string source = "Zmq") =>
        TestAppliance.StartAsync(o =>
        {
            o.Logging.MessageTrace.Enabled = true;
            trace(o.Logging.MessageTrace);
            configure?.Invoke(o);
        }, source);

    internal static string ReadTrace(string logs)
    {
        if (!Directory.Exists(logs)) return "";
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(logs, MessageTrace.FilePrefix + "*.log").Order(StringComparer.Ordinal)) text.Append(ReadShared(file));
        return text.ToString();
    }

    internal static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    internal static async Task<string> WaitForTraceAsync(string logs, string text)
    {
        await Eventually.TrueAsync(() => ReadTrace(logs).Contains(text, StringComparison.Ordinal), $"'{text}' in the message trace:\n{ReadTrace(logs)}");
        return ReadTrace(logs);
    }

    /// <summary>Every byte of every file under <paramref name="directory"/>, for "the key never reaches a log".</summary>
    internal static void AssertNowhere(string directory, string secret)
    {
        byte[] needle = Encoding.UTF8.GetBytes(secret);
        int files = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            files++;
            byte[] content;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                content = new byte[stream.Length];
                stream.ReadExactly(content);
            }
            Assert.True(content.AsSpan().IndexOf(needle) < 0, $"the key appears in {file}");
        }
        Assert.True(files > 0, $"no log files in {directory}");
    }

    private static string Ping(string id) => $"{{\"action\": \"ping\", \"_pingId\": \"{id}\"}}";

    /// <summary>Waits for the trace line of the pong answering <see cref="Ping"/> <paramref name="id"/>: everything traced before it is written by then.</summary>
    private static async Task<string> WaitForPongAsync(string logs, string id)
    {
        var pong = new Regex($"to client \\d+ \\([^)]*\\): \\{{\"type\": \"pong\".*\"_pingId\": \"{id}\"\\}}\n");
        await Eventually.TrueAsync(() => pong.IsMatch(ReadTrace(logs)), $"the pong {id} in the message trace:\n{ReadTrace(logs)}");
        return ReadTrace(logs);
    }

    [Fact]
    public async Task Only_the_listed_sites_messages_are_traced()
    {
        await using var appliance = await StartAsync(t => t.Sites = ["beta"], o =>
        {
            o.Sites.Add(TestSites.New("alpha", "alpha.test", "alpha-key", "alice"));
            o.Sites.Add(TestSites.New("beta", "beta.test", "beta-key", "bob"));
        });
        await using var alpha = await WsTestClient.ConnectAsync(appliance.InternalUriOf("alpha"));
        await using var beta = await WsTestClient.ConnectAsync(appliance.InternalUriOf("beta"));
        await alpha.AskAsync(TestSites.Authenticate("alpha-key"));
        await alpha.AskAsync(Ping("alpha-1"));
        await beta.AskAsync(TestSites.Authenticate("beta-key"));
        await beta.AskAsync(Ping("beta-1"));

        string trace = await WaitForPongAsync(appliance.Options.LogsDirectory, "beta-1");
        Assert.Contains("message trace on: sites beta, users all, addresses all, ticks 1 in 100 per symbol", trace);
        Assert.Matches(@"\[beta\] from client \d+ \(bob, 127\.0\.0\.1, internal\): \{""action"": ""ping"", ""_pingId"": ""beta-1""\}", trace);
        Assert.Matches(@"\[beta\] to client \d+ \(bob, 127\.0\.0\.1, internal\): \{""type"": ""pong"", ""status"": ""success"", ""server_timestamp"": \d+, ""_pingId"": ""beta-1""\}", trace);
        Assert.DoesNotContain("[alpha]", trace);
        Assert.DoesNotContain("alpha-1", trace);
    }

    [Fact]
    public async Task Only_the_listed_users_messages_and_ticks_are_traced_from_their_authenticate_on()
    {
        string key = NewKey();
        await using var appliance = await StartAsync(t => t.Users = ["otheruser"],
            o => o.Auth.StaticKeys.Add(new StaticKeyOptions { Key = key, UserId = "otheruser", Broker = "zerodha" }));
        string logs = appliance.Options.LogsDirectory;
        await using var traced = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await using var other = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await other.AuthenticateAsync("testkey");
        await other.AskAsync(TestSites.Subscribe("SBIN"));
        await traced.AuthenticateAsync(key);
        await traced.AskAsync(TestSites.Subscribe("SBIN"));
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(traced, "NSE_SBIN_LTP", "{\"ltp\": 812.5}");
        await traced.AskAsync(Ping("last"));

        string trace = await WaitForPongAsync(logs, "last");
        var lines = trace.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The authenticate was sent before the client was known to be otheruser: held, then written before its reply.
        int request = Array.FindIndex(lines, l => l.Contains("from client") && l.Contains("\"action\": \"authenticate\""));
        int reply = Array.FindIndex(lines, l => l.Contains("to client") && l.Contains("\"type\": \"auth\""));
        Assert.True(request >= 0 && reply > request, trace);
        Assert.Contains($"(otheruser, 127.0.0.1, internal): {{\"action\": \"authenticate\", \"api_key\": \"[redacted {ApiKeyFingerprint.Of(key)}]\"}}", lines[request]);
        Assert.Contains("\"user_id\": \"otheruser\"", lines[reply]);
        Assert.Matches(@"\[default\] tick NSE:SBIN mode 1 from the bus, tick 1 of this symbol, 1 in 100 traced to client \d+ \(otheruser, 127\.0\.0\.1, internal\) as mode 1: \{""ltp"": 812\.5\}", trace);
        // testuser's messages, and testuser as a tick's recipient, never.
        Assert.DoesNotContain("testuser", trace);
        Assert.DoesNotContain("testkey", trace);
        Assert.Equal(3, Regex.Count(trace, @"from client \d+ \(otheruser")); // authenticate, subscribe, ping
        AssertNowhere(logs, key);
    }

    [Fact]
    public async Task Only_clients_from_the_listed_addresses_are_traced()
    {
        await using var appliance = await StartAsync(t => t.Addresses = ["127.0.0.2/32"]);
        await using var local = await WsTestClient.ConnectAsync(appliance.InternalUri);
        using var dial = new HttpMessageInvoker(From(IPAddress.Parse("127.0.0.2")));
        await using var remote = await WsTestClient.ConnectAsync(appliance.InternalUri, dial);
        await local.AuthenticateAsync();
        await local.AskAsync(Ping("from-1"));
        await remote.AuthenticateAsync("otherkey");
        await remote.AskAsync(Ping("from-2"));

        string trace = await WaitForPongAsync(appliance.Options.LogsDirectory, "from-2");
        Assert.Matches(@"\[default\] from client \d+ \(-, 127\.0\.0\.2, internal\): \{""action"": ""authenticate"", ""api_key"": ""\[redacted key#[0-9a-f]{8}\]""\}", trace);
        Assert.Matches(@"to client \d+ \(otheruser, 127\.0\.0\.2, internal\): \{""type"": ""pong""", trace);
        Assert.DoesNotContain("127.0.0.1", trace);
        Assert.DoesNotContain("from-1", trace);
    }

    /// <summary>Connections from <paramref name="local"/> (another loopback address) to whatever the URL names.</summary>
    private static SocketsHttpHandler From(IPAddress local) => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    [Fact]
    public async Task An_api_key_never_reaches_the_trace_wherever_a_client_puts_it()
    {
        string key = NewKey();
        await using var appliance = await StartAsync(_ => { }, o => o.Auth.StaticKeys.Add(new StaticKeyOptions { Key = key, UserId = "keyuser", Broker = "zerodha" }));
        string logs = appliance.Options.LogsDirectory;
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync(key);
        await client.AskAsync($"{{\"type\": \"auth\", \"apikey\": \"{key}\"}}");
        await client.AskAsync($"{{\"action\": \"authenticate\", \"apiKey\": [\"{key}\"], \"x\": 1}}");
        await client.AskAsync($"{{\"action\": \"subscribe\", \"symbols\": \"{key}\"}}");        // a key where a key does not belong
        await client.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{key[..40]}");    // not JSON: cut off inside the key
        await client.AskAsync(key);                                                             // not JSON at all
        await client.AskAsync($"{{\"action\": \"authenticate\", \"api_key\": \"{key[..8]}\\u00{key[8..10]}{key[10..]}\"}}"); // an escape inside
        await client.AskAsync(Ping("done"));

        string trace = await WaitForPongAsync(logs, "done");
        Assert.Contains($"\"api_key\": \"[redacted {ApiKeyFingerprint.Of(key)}]\"", trace);
        Assert.Contains($"\"apikey\": \"[redacted {ApiKeyFingerprint.Of(key)}]\"", trace);
        Assert.Contains("\"apiKey\": \"[redacted]\", \"x\": 1}", trace);
        Assert.Contains("{\"action\": \"subscribe\", \"symbols\": \"[redacted]\"}", trace);
        Assert.Matches(@"from client \d+ \(keyuser, 127\.0\.0\.1, internal\): \[redacted\]\n", trace);
        // The replies quote nothing of the key either (the INVALID_JSON and error envelopes are traced too).
        Assert.Contains("\"code\": \"INVALID_JSON\"", trace);
        // Nor any 32 characters of it.
        for (int i = 0; i <= key.Length - 32; i++) AssertNowhere(logs, key.Substring(i, 32));
    }

    [Fact]
    public async Task Ticks_are_sampled_per_symbol_the_first_and_then_one_in_n()
    {
        await using var appliance = await StartAsync(t => t.TickSampleEvery = 5);
        string logs = appliance.Options.LogsDirectory;
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        await client.AskAsync(TestSites.Subscribe("WARMUP"));
        await client.AskAsync(TestSites.Subscribe("RELIANCE", 2));
        await client.AskAsync(TestSites.Subscribe("TCS"));
        using var bus = new BusPublisher(appliance.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(client, "NSE_WARMUP_LTP", "{\"ltp\": 1}");
        await Eventually.TrueAsync(() => ReadTrace(logs).Contains("tick NSE:WARMUP"), "the warm-up tick traced");

        for (int i = 1; i <= 12; i++) bus.Publish("NSE_RELIANCE_QUOTE", $"{{\"ltp\": {i}}}");
        for (int i = 1; i <= 3; i++) bus.Publish("NSE_TCS_LTP", $"{{\"ltp\": {100 + i}}}");
        var received = new List<string>();
        while (!received.Any(m => m.Contains("\"ltp\": 12}")) || !received.Any(m => m.Contains("\"ltp\": 103}"))) received.Add(await client.ReceiveAsync());
        await client.AskAsync(Ping("after"));

        string trace = await WaitForPongAsync(logs, "after");
        var reliance = Regex.Matches(trace, @"tick NSE:RELIANCE mode 2 from the bus, tick (\d+) of this symbol, 1 in 5 traced to client \d+ \(testuser, 127\.0\.0\.1, internal\) as mode 2: \{""ltp"": (\d+)\}");
        Assert.Equal(["1:1", "6:6", "11:11"], reliance.Select(m => $"{m.Groups[1].Value}:{m.Groups[2].Value}"));
        var tcs = Regex.Matches(trace, @"tick NSE:TCS mode 1 .*: \{""ltp"": (\d+)\}");
        Assert.Equal(["101"], tcs.Select(m => m.Groups[1].Value));
    }

    [Fact]
    public async Task Past_the_byte_budget_of_a_minute_messages_are_counted_not_written_and_said_once_the_minute_is_over()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 15, 20, TimeSpan.Zero));
        await using var appliance = await TestAppliance.StartAsync(o =>
        {
            o.Logging.MessageTrace.Enabled = true;
            o.Logging.MessageTrace.BytesPerMinute = 2048;
        }, services: s => s.AddSingleton(sp => new MessageTrace(sp.GetRequiredService<ApplianceOptions>().LogsDirectory,
            sp.GetRequiredService<ApplianceOptions>().Logging.MessageTrace, time, NullLogger<MessageTrace>.Instance)));
        string logs = appliance.Options.LogsDirectory;
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        for (int i = 0; i < 100; i++) await client.AskAsync(Ping($"p{i:000}"));

        // The minute ends: one line says what it turned away (authenticate + its reply, 100 pings and their pongs);
        // it is queued after every line the budget let through, so those are all in the file by then.
        time.Advance(TimeSpan.FromSeconds(41));
        string after = await WaitForTraceAsync(logs, "were not written");
        var written = after.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(" [default] ")).ToList();
        long bytes = written.Sum(l => Encoding.UTF8.GetByteCount(l) + 1);
        Assert.InRange(bytes, 1500, 2048);
        Assert.InRange(written.Count, 5, 30);
        int dropped = 2 + 200 - written.Count;
        Assert.Contains($"message trace: in the minute from 09:15 {dropped} messages (", after);
        Assert.Contains("bytes) were not written: over Logging:MessageTrace:BytesPerMinute (2048)", after);
        Assert.Single(Regex.Matches(after, "were not written"));

        // A fresh budget.
        await client.AskAsync(Ping("next-minute"));
        await WaitForPongAsync(logs, "next-minute");
        time.Advance(TimeSpan.FromMinutes(2));
        await client.AskAsync(Ping("quiet"));
        await WaitForPongAsync(logs, "quiet");
        Assert.Single(Regex.Matches(ReadTrace(logs), "were not written")); // nothing dropped since: nothing said
    }

    [Fact]
    public async Task Off_by_default_nothing_is_written_and_no_file_is_made()
    {
        await using var appliance = await TestAppliance.StartAsync();
        await using var client = await WsTestClient.ConnectAsync(appliance.InternalUri);
        await client.AuthenticateAsync();
        await client.AskAsync(Ping("x"));
        Assert.Null(appliance.Root.GetRequiredService<MessageTrace>().Settings);
        Assert.Equal("", ReadTrace(appliance.Options.LogsDirectory));
    }

    [Fact]
    public async Task In_upstream_mode_the_messages_to_and_from_OpenAlgos_proxy_are_traced_keys_redacted()
    {
        int port = TestAppliance.FreeTcpPort();
        string key = NewKey();
        await using var origin = await TestAppliance.StartAsync(o =>
        {
            o.Listen.Internal = $"127.0.0.1:{port}";
            o.Auth.StaticKeys.Add(new StaticKeyOptions { Key = key, UserId = "traceduser", Broker = "fakebroker" });
        });
        await using var front = await StartAsync(t => t.Users = ["traceduser"], o =>
        {
            o.Auth.Mode = AuthMode.Upstream;
            o.MarketData.OpenAlgoUpstreamUrl = $"ws://127.0.0.1:{port}";
            o.MarketData.SupportedBrokers = "";
        }, source: "OpenAlgo");
        string logs = front.Options.LogsDirectory;
        await using var traced = await WsTestClient.ConnectAsync(front.InternalUri);
        await using var other = await WsTestClient.ConnectAsync(front.InternalUri);
        await traced.AuthenticateAsync(key);
        await other.AuthenticateAsync("otherkey");
        string subscribe = "{\"action\": \"subscribe\", \"symbols\": [{\"symbol\": \"INFY\", \"exchange\": \"NSE\"}], \"mode\": 1}";
        await traced.AskAsync(subscribe);
        await other.AskAsync(subscribe);
        using var bus = new BusPublisher(origin.ZmqEndpoint);
        await bus.PublishUntilReceivedAsync(traced, "NSE_INFY_LTP", "{\"ltp\": 1510.25}");
        await traced.AskAsync(Ping("end"));

        string fingerprint = ApiKeyFingerprint.Of(key);
        string trace = await WaitForPongAsync(logs, "end");
        var lines = trace.Split('\n');
        // The first authenticate upstream was held until OpenAlgo's reply named the user.
        int up = Array.FindIndex(lines, l => l.Contains($"[default] to OpenAlgo ({fingerprint}, traceduser): {{\"action\": \"authenticate\", \"api_key\": \"[redacted {fingerprint}]\"}}"));
        int down = Array.FindIndex(lines, l => l.Contains($"[default] from OpenAlgo ({fingerprint}, traceduser): {{\"type\": \"auth\", \"status\": \"success\""));
        Assert.True(up >= 0 && down > up, trace);
        Assert.Contains($"to OpenAlgo ({fingerprint}, traceduser): {{\"action\": \"subscribe\", \"symbols\": [{{\"symbol\": \"INFY\", \"exchange\": \"NSE\"}}], \"mode\": 1", trace);
        Assert.Contains($"from OpenAlgo ({fingerprint}, traceduser): {{\"type\": \"subscribe\", \"status\": \"success\"", trace);
        Assert.Matches($@"tick NSE:INFY mode 1 from OpenAlgo \({fingerprint}\), tick 1 of this symbol, 1 in 100 traced to client \d+ \(traceduser, 127\.0\.0\.1, internal\) as mode 1: \{{""ltp"": 1510\.25\}}", trace);
        // The other key's session and its client: not traced.
        Assert.DoesNotContain(ApiKeyFingerprint.Of("otherkey"), trace);
        Assert.DoesNotContain("otheruser", trace);
        AssertNowhere(logs, key);
    }
}
