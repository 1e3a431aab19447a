using OpenAlgo.Appliance.Proxy;

namespace OpenAlgo.Appliance.Tests.Proxy;

/// <summary>The app's CORS grant on /socket.io/ responses survives only for the Origin the gate admitted.</summary>
public sealed class SocketIoCorsTests
{
    private static DefaultHttpContext Response(string? requestOrigin, string? allowOrigin, bool admitted)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/socket.io/";
        if (requestOrigin is not null) context.Request.Headers.Origin = requestOrigin;
        if (admitted) SocketIoCors.MarkAdmitted(context);
        // What Flask-SocketIO sends with cors_allowed_origins="*": the Origin echoed, with credentials.
        if (allowOrigin is not null) context.Response.Headers.AccessControlAllowOrigin = allowOrigin;
        context.Response.Headers.AccessControlAllowCredentials = "true";
        SocketIoCors.Restrict(context);
        return context;
    }

    [Fact]
    public void The_grant_for_the_admitted_origin_is_kept()
    {
        var headers = Response("https://app.test", "https://app.test", admitted: true).Response.Headers;
        Assert.Equal("https://app.test", headers.AccessControlAllowOrigin);
        Assert.Equal("true", headers.AccessControlAllowCredentials);
    }

    [Theory]
    [InlineData("https://evil.app.test", "https://evil.app.test", false)] // never admitted
    [InlineData("https://app.test", "https://evil.app.test", true)]       // grants someone else
    [InlineData("https://app.test", "*", true)]                           // a wildcard
    [InlineData(null, "https://evil.app.test", true)]                     // no Origin: no cross-origin reader to grant
    [InlineData("https://app.test", null, true)]                          // credentials without an origin
    public void Any_other_grant_is_dropped(string? requestOrigin, string? allowOrigin, bool admitted)
    {
        var headers = Response(requestOrigin, allowOrigin, admitted).Response.Headers;
        Assert.False(headers.ContainsKey("Access-Control-Allow-Origin"));
        Assert.False(headers.ContainsKey("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public void A_preflight_is_options_with_origin_and_a_requested_method()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "OPTIONS";
        context.Request.Headers.Origin = "https://app.test";
        Assert.False(SocketIoCors.IsPreflight(context.Request));
        context.Request.Headers.AccessControlRequestMethod = "POST";
        Assert.True(SocketIoCors.IsPreflight(context.Request));
        context.Request.Method = "GET";
        Assert.False(SocketIoCors.IsPreflight(context.Request));
    }
}
