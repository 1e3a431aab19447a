using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Tls;

internal static class TlsServiceCollectionExtensions
{
    /// <summary>The certificate holder the HTTPS listener reads on every handshake, and the source that fills it.</summary>
    public static IServiceCollection AddApplianceTls(this IServiceCollection services, ApplianceOptions options, CertificateHolder holder, AcmeChallengeResponder responder)
    {
        services.AddSingleton(holder);
        services.AddSingleton(responder);
        if (options.Tls.Mode == TlsMode.Acme)
        {
            services.TryAddSingleton(AcmeSchedule.From(options.Tls.Acme));
            services.AddSingleton<AcmeCertificateService>();
            services.AddHostedService(sp => sp.GetRequiredService<AcmeCertificateService>());
        }
        else if (options.Tls.Mode == TlsMode.Files)
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
