using OpenAlgo.Appliance.Hosting;

namespace OpenAlgo.Appliance.Observability.Admin;

internal static class AdminApplicationBuilderExtensions
{
    /// <summary>
    /// <c>/metrics</c> through OpenTelemetry's Prometheus exporter — on the admin listener only, so
    /// the public listeners never serve it — and the meters created before the first connection.
    /// </summary>
    public static IApplicationBuilder UseApplianceAdmin(this WebApplication app)
    {
        // Built now so every site's hub has its latency recorder before a client connects.
        app.Services.GetRequiredService<ApplianceMeters>();
        var listeners = app.Services.GetRequiredService<ListenerRegistry>();
        var options = app.Services.GetRequiredService<Configuration.ApplianceOptions>();
        // A request for a foreign host name falls through to AdminEndpoints, which refuses it.
        return app.UseOpenTelemetryPrometheusScrapingEndpoint(
            context => context.Request.Path == "/metrics" && listeners.KindOf(context) == ListenerKind.Admin
                && (options.Listen.AdminAllowRemote || AdminEndpoints.IsLoopbackHost(context.Request.Host.Host)));
    }
}
