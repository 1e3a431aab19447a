using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Tls;

internal static class TlsServiceCollectionExtensions
{
    /// <summary>
    /// What every site's certificate shares: the one ACME account (its lock), the challenge
    /// responder the listeners answer from, and the renewal schedule.
    /// </summary>
    public static IServiceCollection AddAcmeAccount(this IServiceCollection services, ApplianceOptions options)
    {
        services.TryAddSingleton(new AcmeChallengeResponder());
        services.TryAddSingleton(new AcmeAccountLock());
        services.TryAddSingleton(AcmeSchedule.From(options.Tls.Acme));
        return services;
    }

    /// <summary>A site's certificate holder (read on every handshake for the site) and the source that fills it.</summary>
    public static IServiceCollection AddSiteCertificate(this IServiceCollection services, SiteOptions site)
    {
        services.AddSingleton(new CertificateHolder());
        switch (site.Tls.Mode)
        {
            case TlsMode.Acme:
                services.AddSingleton<AcmeCertificateService>();
                services.AddHostedService(sp => sp.GetRequiredService<AcmeCertificateService>());
                break;
            case TlsMode.Files:
                services.AddSingleton<PemFileCertificateSource>();
                services.AddHostedService(sp => sp.GetRequiredService<PemFileCertificateSource>());
                break;
            default:
                services.AddSingleton<SelfSignedCertificateSource>();
                services.AddHostedService(sp => sp.GetRequiredService<SelfSignedCertificateSource>());
                break;
        }
        return services;
    }
}
