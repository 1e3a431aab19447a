using OpenAlgo.Appliance.Hosting;

namespace OpenAlgo.Appliance.Tls.Acme;

/// <summary>
/// Puts the HTTP-01 responder in front of everything else on the plain HTTP listener (before the
/// redirect to HTTPS), the way LettuceEncrypt plugs in without touching the app's own pipeline.
/// </summary>
internal sealed class Http01ChallengeStartupFilter(AcmeChallengeResponder responder, ListenerRegistry listeners) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (listeners.KindOf(context) == ListenerKind.Http && await responder.TryHandleHttp01Async(context)) return;
            await nextMiddleware(context);
        });
        next(app);
    };
}
