using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Sources;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;
using OpenAlgo.Appliance.Observability.Admin;
using OpenAlgo.Appliance.Tls;
using OpenAlgo.Appliance.Tls.Acme;
using OpenTelemetry.Metrics;

namespace OpenAlgo.Appliance.Observability;

internal static class ObservabilityServiceCollectionExtensions
{
    /// <summary>Meters the framework itself publishes that an operator wants next to ours (all in the same scrape).</summary>
    private static readonly string[] FrameworkMeters =
    [
        "Microsoft.AspNetCore.Server.Kestrel",  // connections, TLS handshakes, upgraded (WebSocket) connections
        "Microsoft.AspNetCore.Hosting",         // HTTP request durations (proxied Flask traffic)
        "System.Runtime",                       // GC, heap, CPU time, thread pool
        "System.Net.Http",                      // the Flask proxy's and the ACME client's outgoing requests
    ];

    /// <summary>
    /// The meters, their in-process reader and sampler, the status report, the admin endpoints and
    /// OpenTelemetry's Prometheus exporter. Sites add their own telemetry when they start
    /// (<see cref="AddSiteTelemetry"/>, <see cref="ApplianceMeters.Add"/>) and take it back when they stop.
    /// </summary>
    public static IServiceCollection AddObservability(this IServiceCollection services, ApplianceOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton(sp =>
        {
            var meters = new ApplianceMeters(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
            if (sp.GetService<Hosting.Systemd.HealthMonitor>() is { } health)
            {
                meters.AddWatchdog(health, sp.GetService<Hosting.Systemd.SystemdSettings>()?.WatchdogInterval is not null);
            }
            return meters;
        });
        services.AddSingleton<MeterReader>();
        services.AddSingleton<TelemetrySampler>();
        services.AddHostedService(sp => sp.GetRequiredService<TelemetrySampler>());
        services.AddSingleton(sp => new StatusReport(sp.GetRequiredService<TelemetrySampler>(), sp.GetRequiredService<MeterReader>(), sp.GetRequiredService<ApplianceMeters>(),
            sp.GetRequiredService<ListenerRegistry>(), options, sp.GetRequiredService<TimeProvider>(), sp.GetService<Hosting.Systemd.HealthMonitor>()));
        services.AddSingleton<AdminEndpoints>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ApplianceMeters.MeterName)
            .AddMeter(FrameworkMeters)
            .AddPrometheusExporter());
        services.AddNoRequestActivities();
        return services;
    }

    /// <summary>The category whose <c>IsEnabled(Critical)</c> makes ASP.NET Core start an <c>Activity</c> for every request.</summary>
    internal const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// No <see cref="System.Diagnostics.Activity"/> per request: nothing here traces (no
    /// <c>ActivityListener</c>, no exporter, no log template shows a trace id), yet ASP.NET Core starts
    /// one for every request whenever its hosting diagnostics logger is enabled at all — for the
    /// request log scope — and <c>HttpClient</c> then starts a child for the proxied request because
    /// one is current. Turning that category off (it writes only "Request starting/finished" at
    /// Information, which the "Microsoft" override at Warning already hides) removes both, the
    /// scope and an async layer (<c>DiagnosticsHandler</c>; <c>HttpActivityPropagationSupport</c> in
    /// the project file removes that layer from the binary). Measured on the proxy's small page
    /// (docs/benchmarks.md, "Target 5, proxy"): 3.8 % of the samples, ≈ 3–5 µs of ≈ 65 µs of CPU
    /// per request over 15 interleaved rounds, ≈ 10 % more requests a second; the meters stay.
    /// </summary>
    private static IServiceCollection AddNoRequestActivities(this IServiceCollection services) =>
        services.Configure<LoggerFilterOptions>(filters => filters
            .AddFilter(HostingDiagnosticsCategory, LogLevel.None)
            .AddFilter<Serilog.Extensions.Logging.SerilogLoggerProvider>(HostingDiagnosticsCategory, LogLevel.None));

    /// <summary>A site's telemetry (in the site's container): what its hub, source and certificate already count, as the meters read it.</summary>
    public static IServiceCollection AddSiteTelemetry(this IServiceCollection services, SiteOptions site)
    {
        services.AddSingleton(sp => new SiteTelemetry(site.Name, sp.GetRequiredService<MarketDataHub>(), sp.GetRequiredService<CertificateHolder>(),
            site.Tls.Mode, Probe(sp, site), sp.GetRequiredService<TimeProvider>(), sp.GetService<AcmeCertificateService>())
        {
            Domains = [.. site.Tls.Domains],
            InternalAddress = site.Listen.Internal,
            KeyPrefix = site.KeyPrefix,
        });
        return services;
    }

    /// <summary>The site's source through its one seam (<see cref="IMarketDataSource"/>), plus the key-session counts of OpenAlgo's proxy.</summary>
    private static SourceProbe Probe(IServiceProvider services, SiteOptions site)
    {
        var source = services.GetRequiredService<IMarketDataSource>();
        return source switch
        {
            OpenAlgoProxySource proxy => new SourceProbe(MarketDataSourceKind.OpenAlgo, proxy.Uri.ToString(), () => proxy.Progress, () => (proxy.ConnectedCount, proxy.SessionCount)),
            ZmqTickSource zmq => new SourceProbe(MarketDataSourceKind.Zmq, zmq.Endpoint, () => zmq.Progress, publishers: () => zmq.Publishers),
            _ => new SourceProbe(site.MarketData.Source, "", () => source.Progress),
        };
    }
}
