using System.Net;
using Microsoft.Extensions.Time.Testing;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.Tls;

namespace OpenAlgo.Appliance.Tests.Observability;

/// <summary>
/// What <c>/healthz</c>, <c>status</c> and <c>openalgo_appliance_source_up</c> say of a ZeroMQ bus
/// (SiteTelemetry.SourceHealth, on a fake clock): down once no publisher has been connected for more
/// than 10 s while a client is subscribed; an idle bus with no publisher and no subscriber is fine
/// (OpenAlgo starts an adapter, and its publisher, when a user subscribes). The end-to-end form is
/// Reliability/Faults/SiteSourceFaultTests.
/// </summary>
public sealed class SourceHealthTests
{
    private const string Bus = "ZeroMQ bus tcp://127.0.0.1:5555";

    [Fact]
    public void A_bus_with_no_publisher_is_down_after_10_s_only_while_a_client_is_subscribed()
    {
        var time = new FakeTimeProvider();
        var hub = new MarketDataHub();
        int publishers = 0;
        long progress = 0;
        var probe = new SourceProbe(MarketDataSourceKind.Zmq, "tcp://127.0.0.1:5555", () => ++progress, publishers: () => publishers);
        var site = new SiteTelemetry("default", hub, new CertificateHolder(), TlsMode.SelfSigned, probe, time);

        Assert.Equal((true, $"{Bus}: 0 publishers connected"), site.SourceHealth());
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal((true, $"{Bus}: 0 publishers connected"), site.SourceHealth()); // idle: nobody waits for ticks

        var session = new ClientSession("internal", IPAddress.Loopback, new Outbox(100, time), time, 10);
        Assert.True(hub.TryRegister(session));
        hub.Authorize(session, "u", "zerodha");
        var key = new SymbolKey("NSE", "RELIANCE");
        Assert.Null(hub.Reserve(session, key, ModeTags.Bit(1)));
        hub.Route(session, key);
        string waiting = $"{Bus}: no publisher connected while 1 subscription waits for ticks";
        Assert.Equal((true, waiting), site.SourceHealth());
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal((true, waiting), site.SourceHealth()); // a publisher restarting takes a moment
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((false, $"{waiting} (for 11 s; is the broker adapter or OpenAlgo running?)"), site.SourceHealth());

        publishers = 1;
        Assert.Equal((true, $"{Bus}: 1 publisher connected"), site.SourceHealth());
        publishers = 0;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal((true, waiting), site.SourceHealth()); // the 10 s start again from the publisher's leaving
        hub.Release(session, key, ModeTags.Bit(1));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal((true, $"{Bus}: 0 publishers connected"), site.SourceHealth());
    }
}
