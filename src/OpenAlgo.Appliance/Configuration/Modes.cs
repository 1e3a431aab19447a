namespace OpenAlgo.Appliance.Configuration;

/// <summary><c>Tls:Mode</c>: where the site's certificate comes from.</summary>
internal enum TlsMode
{
    /// <summary>Made and renewed by the appliance (demo, tests, private networks).</summary>
    SelfSigned,

    /// <summary>PEM files another tool manages (a wildcard or a company certificate), re-read on change.</summary>
    Files,

    /// <summary>Obtained and renewed over ACME (Let's Encrypt by default).</summary>
    Acme,
}

/// <summary><c>MarketData:Source</c>: what feeds the site's hub.</summary>
internal enum MarketDataSourceKind
{
    Simulated,

    /// <summary>OpenAlgo's ZeroMQ bus: the SUB socket binds, broker adapters publish.</summary>
    Zmq,

    /// <summary>OpenAlgo's own WebSocket proxy, one upstream session per API key.</summary>
    OpenAlgo,
}

/// <summary><c>Auth:Mode</c>: who decides whether an API key is valid.</summary>
internal enum AuthMode
{
    StaticKeys,

    /// <summary>OpenAlgo's SQLite database with its Argon2id hashes.</summary>
    OpenAlgoDatabase,

    /// <summary>OpenAlgo's proxy answers (MarketData:Source=OpenAlgo).</summary>
    Upstream,
}
