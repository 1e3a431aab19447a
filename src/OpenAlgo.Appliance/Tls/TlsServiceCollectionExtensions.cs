using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Tls;

internal static class TlsServiceCollectionExtensions
{
    /// <summary>The certificate holder the HTTPS listener reads on every handshake, and the source that fills it.</summary>
    public static IServiceCollection AddApplianceTls(this IServiceCollection services, ApplianceOptions options, CertificateHolder holder)
    {
        services.AddSingleton(holder);
        if (options.Tls.Mode.Equals("Files", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<PemFileCertificateSource>();
            services.AddHostedService(sp => sp.GetRequiredService<PemFileCertificateSource>());
        }
        else
        {
            services.AddSingleton<SelfSignedCertificateSource>();
            services.AddHostedService(sp => sp.GetRequiredService<SelfSignedCertificateSource>());
        }
        return services;
    }
}
