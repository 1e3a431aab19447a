using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>What <see cref="FaultyCa"/> does with a request.</summary>
internal enum CaFault
{
    /// <summary>Forwarded to Pebble.</summary>
    None,

    /// <summary>500 with an ACME <c>serverInternal</c> problem document.</summary>
    ServerError,

    /// <summary>429 with an ACME <c>rateLimited</c> problem document and <c>Retry-After</c>.</summary>
    RateLimited,

    /// <summary>The connection is cut without an answer (a CA whose front end is down).</summary>
    Abort,
}

/// <summary>
/// A stand-in in front of Pebble on its own HTTPS port (Pebble's certificate, so the same trusted
/// roots): forwards every request with its Host header — Pebble builds its URLs from the Host, so
/// the client keeps talking to the stand-in — or answers with the fault set in <see cref="Fault"/>.
/// Each request is recorded with its time and the status the client got.
/// </summary>
internal sealed class FaultyCa : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _pebble;
    private readonly List<(TimeSpan At, string Method, string Path, int Status)> _requests = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private FaultyCa(WebApplication app, HttpClient pebble, int port)
    {
        _app = app;
        _pebble = pebble;
        DirectoryUrl = $"https://127.0.0.1:{port}/dir";
    }

    public string DirectoryUrl { get; }

    private volatile CaFault _fault;

    public CaFault Fault
    {
        get => _fault;
        set => _fault = value;
    }

    /// <summary>The Retry-After a <see cref="CaFault.RateLimited"/> answer carries.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Time since the stand-in started (the clock of <see cref="Requests"/>).</summary>
    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<(TimeSpan At, string Method, string Path, int Status)> Requests
    {
        get
        {
            lock (_requests) return [.. _requests];
        }
    }

    public static async Task<FaultyCa> StartAsync(PebbleServer pebble)
    {
        int port = TestAppliance.FreeTcpPort();
        var certificate = X509Certificate2.CreateFromPemFile(pebble.HttpsCertificateFile, pebble.HttpsKeyFile);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var client = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
        var ca = new FaultyCa(app, client, port);
        string upstream = $"https://127.0.0.1:{pebble.ListenPort}";
        app.Run(context => ca.HandleAsync(context, upstream));
        await app.StartAsync();
        return ca;
    }

    private async Task HandleAsync(HttpContext context, string upstream)
    {
        var fault = _fault;
        int status;
        switch (fault)
        {
            case CaFault.Abort:
                Record(context, 0);
                context.Abort();
                return;
            case CaFault.ServerError:
                status = 500;
                await ProblemAsync(context, status, "serverInternal", "injected by the test's CA stand-in");
                break;
            case CaFault.RateLimited:
                status = 429;
                context.Response.Headers.RetryAfter = ((int)RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ProblemAsync(context, status, "rateLimited", "too many new orders recently (injected)");
                break;
            default:
                status = await ForwardAsync(context, upstream);
                break;
        }
        Record(context, status);
    }

    private void Record(HttpContext context, int status)
    {
        lock (_requests) _requests.Add((_clock.Elapsed, context.Request.Method, context.Request.Path.Value ?? "", status));
    }

    private static async Task ProblemAsync(HttpContext context, int status, string type, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync($$"""{"type": "urn:ietf:params:acme:error:{{type}}", "detail": "{{detail}}", "status": {{status}}}""");
    }

    private async Task<int> ForwardAsync(HttpContext context, string upstream)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), upstream + context.Request.Path + context.Request.QueryString);
        request.Headers.Host = context.Request.Host.Value;
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContentType.Count > 0)
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
            if (context.Request.ContentType is { } type) request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        using var response = await _pebble.SendAsync(request);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            context.Response.Headers[header.Key] = header.Value.ToArray();
        }
        byte[] content = await response.Content.ReadAsByteArrayAsync();
        context.Response.ContentLength = content.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(content);
        return (int)response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _pebble.Dispose();
    }
}
