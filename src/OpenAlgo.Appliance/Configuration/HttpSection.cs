namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// <c>Http:*</c> (global): how long and how slowly an HTTP client may talk before Kestrel cuts it —
/// what nginx's <c>client_header_timeout</c>, <c>client_body_timeout</c>, <c>keepalive_timeout</c>
/// and <c>large_client_header_buffers</c> did. They hold against slowloris and header floods on every
/// listener (docs/reliability.md); upgraded WebSockets are exempt (the hub has its own timers).
/// </summary>
internal sealed class HttpSection
{
    /// <summary>The whole request head must arrive within this (Kestrel's RequestHeadersTimeout; nginx 60 s, Kestrel 30 s).</summary>
    public double RequestHeadersTimeoutSeconds { get; set; } = 15;

    /// <summary>A request body slower than this, after a 5 s grace, is cut (Kestrel's MinRequestBodyDataRate); 0 disables.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Headers per request; more get 431 (Kestrel's default).</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>Bytes of request headers; more get 431 (nginx's 4 × 8k, Kestrel's default).</summary>
    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    /// <summary>An idle keep-alive connection is closed after this (nginx's keepalive_timeout 75 s; Kestrel 130 s).</summary>
    public double KeepAliveTimeoutSeconds { get; set; } = 75;

    /// <summary>A TLS handshake that has not finished in this long is dropped (Kestrel's HandshakeTimeout).</summary>
    public double TlsHandshakeTimeoutSeconds { get; set; } = 10;
}
