using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenAlgo.Appliance.Configuration;

namespace OpenAlgo.Appliance.Proxy;

/// <summary>What the Flask app said about a caller's cookies.</summary>
internal enum SessionState
{
    Authenticated,
    Anonymous,
    /// <summary>The app could not be asked (down, timed out): answered like any proxied request, 502.</summary>
    Unavailable,
}

/// <summary>
/// nginx's <c>auth_request</c>, for Socket.IO: asks the Flask app at <c>Proxy:SessionCheckPath</c>,
/// with the caller's own cookies, whether they belong to a logged-in session
/// (<c>{"authenticated": true|false}</c>). OpenAlgo's default namespace has no connect handler,
/// so without this anyone who reaches <c>/socket.io/</c> receives every order event.
/// Answers are reused for <c>Proxy:SessionCacheSeconds</c> per Cookie header — a long-polling
/// client makes a request every few seconds, and each one would otherwise cost a Flask round trip.
/// Concurrent requests with the same cookies share one question.
/// </summary>
internal sealed partial class SessionCheck(FlaskClient flask, SiteOptions options, TimeProvider time, ILogger<SessionCheck> logger)
{
    /// <summary>Bounds the cache against a flood of made-up cookies; past it, expired answers are dropped, then all.</summary>
    private const int MaxEntries = 10_000;
    private const int MaxAnswerBytes = 64 * 1024;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly long _ttlTicks = (long)(options.Proxy.SessionCacheSeconds * time.TimestampFrequency);
    private readonly string _path = options.Proxy.SessionCheckPath;

    public ValueTask<SessionState> CheckAsync(HttpContext context)
    {
        var cookies = context.Request.Headers.Cookie;
        // No cookie, no session: nothing to ask.
        if (cookies.Count == 0 || !flask.IsEnabled) return ValueTask.FromResult(SessionState.Anonymous);
        string cookie = string.Join("; ", cookies.ToArray());

        // The question is built here, from this caller; it may be answered for several.
        var question = BuildQuestion(context, cookie);
        if (_ttlTicks <= 0) return new ValueTask<SessionState>(AskAsync(question));

        // A hash, not the cookie itself, keys the cache: session cookies are credentials.
        string key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(cookie)));
        long now = time.GetTimestamp();
        if (_cache.TryGetValue(key, out var cached) && now < cached.Expires)
        {
            question.Dispose();
            return new ValueTask<SessionState>(cached.Answer.Task);
        }
        if (_cache.Count >= MaxEntries) Prune(now);
        var entry = new Entry(new TaskCompletionSource<SessionState>(TaskCreationOptions.RunContinuationsAsynchronously), now + _ttlTicks);
        _cache[key] = entry;
        _ = AnswerAsync(key, entry, question);
        return new ValueTask<SessionState>(entry.Answer.Task);
    }

    private async Task AnswerAsync(string key, Entry entry, HttpRequestMessage question)
    {
        var state = await AskAsync(question).ConfigureAwait(false);
        // "Could not ask" is not an answer about the cookie: the next request asks again.
        if (state == SessionState.Unavailable) _cache.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        entry.Answer.SetResult(state);
    }

    private HttpRequestMessage BuildQuestion(HttpContext context, string cookie)
    {
        var question = new HttpRequestMessage(HttpMethod.Get, flask.Address!.DestinationPrefix + _path)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        // Same Host and X-Forwarded-* as the request itself, so the app judges the cookie the
        // way it would on that request (ProxyFix, cookie domain, secure-cookie checks).
        ForwardedHeaders.Apply(context, question.Headers);
        question.Headers.TryAddWithoutValidation("Cookie", cookie);
        question.Headers.TryAddWithoutValidation("Accept", "application/json");
        return question;
    }

    private async Task<SessionState> AskAsync(HttpRequestMessage question)
    {
        using var _ = question;
        using var timeout = new CancellationTokenSource(AskTimeout);
        try
        {
            using var response = await flask.Invoker!.SendAsync(question, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Fail closed: a missing endpoint (an OpenAlgo without it) refuses Socket.IO, and says why.
                Log.Status(logger, _path, (int)response.StatusCode);
                return SessionState.Anonymous;
            }
            var body = await ReadLimitedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("authenticated", out var authenticated)
                && authenticated.ValueKind == JsonValueKind.True
                ? SessionState.Authenticated
                : SessionState.Anonymous;
        }
        catch (JsonException ex)
        {
            Log.NotJson(logger, _path, ex.Message);
            return SessionState.Anonymous;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            Log.Unreachable(logger, flask.Address!.ToString(), ex.Message);
            return SessionState.Unavailable;
        }
    }

    private static async Task<ReadOnlyMemory<byte>> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxAnswerBytes];
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            total += read;
        }
        return buffer.AsMemory(0, total);
    }

    private void Prune(long now)
    {
        foreach (var (key, entry) in _cache)
        {
            if (now >= entry.Expires) _cache.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
        if (_cache.Count >= MaxEntries) _cache.Clear();
    }

    private sealed record Entry(TaskCompletionSource<SessionState> Answer, long Expires);

    private static partial class Log
    {
        [LoggerMessage(2010, LogLevel.Warning, "Session check {Path} answered HTTP {Status}; Socket.IO is refused until it answers 200 with {{\"authenticated\": true}} (Proxy:SessionCheckPath, Proxy:RequireSessionForSocketIo)")]
        public static partial void Status(ILogger logger, string path, int status);

        [LoggerMessage(2011, LogLevel.Warning, "Session check {Path} did not answer JSON ({Error}); treated as not logged in")]
        public static partial void NotJson(ILogger logger, string path, string error);

        [LoggerMessage(2012, LogLevel.Warning, "Session check could not reach the Flask app at {FlaskApp}: {Error}")]
        public static partial void Unreachable(ILogger logger, string flaskApp, string error);
    }
}
