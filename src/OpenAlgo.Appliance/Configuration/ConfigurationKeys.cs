using System.Globalization;

namespace OpenAlgo.Appliance.Configuration;

/// <summary>Where a key may be set.</summary>
internal enum KeyScope
{
    /// <summary>Once for the whole process (the HTTPS and HTTP listeners, the ACME account, directories).</summary>
    Global,

    /// <summary>Per site; at the top level the value every site inherits.</summary>
    Site,
}

/// <summary>
/// One configuration key: its pattern relative to <c>Appliance</c> (or to <c>Appliance:Sites:NAME</c>),
/// how to read its text into the options and how to show the effective value. <c>*</c> in a pattern
/// stands for an array index.
/// </summary>
internal sealed class ConfigurationKey
{
    private readonly Func<ApplianceOptions, SiteOptions, int, string, string?> _bind;
    private readonly Func<ApplianceOptions, SiteOptions, int, string?> _show;

    public ConfigurationKey(string pattern, KeyScope scope, bool secret, Func<ApplianceOptions, SiteOptions, int, string, string?> bind, Func<ApplianceOptions, SiteOptions, int, string?> show)
    {
        Pattern = pattern;
        Scope = scope;
        Secret = secret;
        _bind = bind;
        _show = show;
        int star = pattern.IndexOf(":*", StringComparison.Ordinal);
        ArraySection = star < 0 ? null : pattern[..star];
        ElementKey = star < 0 || star + 2 >= pattern.Length ? null : pattern[(star + 3)..];
    }

    public string Pattern { get; }
    public KeyScope Scope { get; }
    public bool Secret { get; }

    /// <summary>For <c>Tls:Domains:*</c> and <c>Auth:StaticKeys:*:Key</c>: <c>Tls:Domains</c>, <c>Auth:StaticKeys</c>.</summary>
    public string? ArraySection { get; }

    /// <summary>For <c>Auth:StaticKeys:*:Key</c>: <c>Key</c>; null for arrays of plain values.</summary>
    public string? ElementKey { get; }

    /// <summary>Reads <paramref name="text"/> into the options; the problem and fix when it does not parse.</summary>
    public string? Bind(ApplianceOptions options, SiteOptions site, int index, string text) => _bind(options, site, index, text);

    /// <summary>The effective value as text (null past the end of an array).</summary>
    public string? Show(ApplianceOptions options, SiteOptions site, int index) => _show(options, site, index);
}

/// <summary>
/// Every configuration key the appliance reads — the one table. Binding (<see cref="ApplianceConfiguration.Bind"/>),
/// <c>check</c>'s unknown-key and wrong-type reports, <c>show-config</c> and the site overrides all
/// read it, so a key exists exactly when it is listed here. Written out rather than reflected
/// (native AOT), and kept complete by a test that walks <see cref="ApplianceOptions"/>.
/// </summary>
internal static class ConfigurationKeys
{
    public static readonly IReadOnlyList<ConfigurationKey> All =
    [
        Global("Listen:Https", Text<ApplianceOptions>((o, v) => o.Listen.Https = v), o => o.Listen.Https),
        Global("Listen:Http", Text<ApplianceOptions>((o, v) => o.Listen.Http = v), o => o.Listen.Http),
        Site("Listen:Internal", Text<SiteOptions>((s, v) => s.Listen.Internal = v), s => s.Listen.Internal),
        Global("Listen:Admin", Text<ApplianceOptions>((o, v) => o.Listen.Admin = v), o => o.Listen.Admin),
        Global("Listen:AdminAllowRemote", Flag<ApplianceOptions>((o, v) => o.Listen.AdminAllowRemote = v), o => Bool(o.Listen.AdminAllowRemote)),

        Global("Http:RequestHeadersTimeoutSeconds", Number<ApplianceOptions>((o, v) => o.Http.RequestHeadersTimeoutSeconds = v), o => Number(o.Http.RequestHeadersTimeoutSeconds)),
        Global("Http:MinRequestBodyBytesPerSecond", Number<ApplianceOptions>((o, v) => o.Http.MinRequestBodyBytesPerSecond = v), o => Number(o.Http.MinRequestBodyBytesPerSecond)),
        Global("Http:MaxRequestHeaderCount", Whole<ApplianceOptions>((o, v) => o.Http.MaxRequestHeaderCount = v), o => Number(o.Http.MaxRequestHeaderCount)),
        Global("Http:MaxRequestHeadersTotalBytes", Whole<ApplianceOptions>((o, v) => o.Http.MaxRequestHeadersTotalBytes = v), o => Number(o.Http.MaxRequestHeadersTotalBytes)),
        Global("Http:KeepAliveTimeoutSeconds", Number<ApplianceOptions>((o, v) => o.Http.KeepAliveTimeoutSeconds = v), o => Number(o.Http.KeepAliveTimeoutSeconds)),
        Global("Http:TlsHandshakeTimeoutSeconds", Number<ApplianceOptions>((o, v) => o.Http.TlsHandshakeTimeoutSeconds = v), o => Number(o.Http.TlsHandshakeTimeoutSeconds)),

        Site("Tls:Mode", Choice<SiteOptions, TlsMode>((s, v) => s.Tls.Mode = v, "a TLS mode"), s => s.Tls.Mode.ToString()),
        SiteList("Tls:Domains:*", s => s.Tls.Domains),
        Site("Tls:CertificateFile", Text<SiteOptions>((s, v) => s.Tls.CertificateFile = v), s => s.Tls.CertificateFile),
        Site("Tls:KeyFile", Text<SiteOptions>((s, v) => s.Tls.KeyFile = v), s => s.Tls.KeyFile),
        Global("Tls:Acme:DirectoryUrl", Text<ApplianceOptions>((o, v) => o.Tls.Acme.DirectoryUrl = v), o => o.Tls.Acme.DirectoryUrl),
        Global("Tls:Acme:Email", Text<ApplianceOptions>((o, v) => o.Tls.Acme.Email = v), o => o.Tls.Acme.Email),
        Global("Tls:Acme:AcceptTermsOfService", Flag<ApplianceOptions>((o, v) => o.Tls.Acme.AcceptTermsOfService = v), o => Bool(o.Tls.Acme.AcceptTermsOfService)),
        Global("Tls:Acme:TrustedRootsFile", Text<ApplianceOptions>((o, v) => o.Tls.Acme.TrustedRootsFile = v), o => o.Tls.Acme.TrustedRootsFile),
        Global("Tls:Acme:ChallengeTypes", Text<ApplianceOptions>((o, v) => o.Tls.Acme.ChallengeTypes = v), o => o.Tls.Acme.ChallengeTypes),
        Global("Tls:Acme:EabKeyId", Text<ApplianceOptions>((o, v) => o.Tls.Acme.EabKeyId = v), o => o.Tls.Acme.EabKeyId),
        Global("Tls:Acme:EabHmacKey", Text<ApplianceOptions>((o, v) => o.Tls.Acme.EabHmacKey = v), o => o.Tls.Acme.EabHmacKey, secret: true),
        Global("Tls:Acme:RenewCheckInterval", Duration<ApplianceOptions>((o, v) => o.Tls.Acme.RenewCheckInterval = v), o => o.Tls.Acme.RenewCheckInterval.ToString("c", CultureInfo.InvariantCulture)),

        Site("MarketData:Source", Choice<SiteOptions, MarketDataSourceKind>((s, v) => s.MarketData.Source = v, "a market-data source"), s => s.MarketData.Source.ToString()),
        Site("MarketData:ZmqEndpoint", Text<SiteOptions>((s, v) => s.MarketData.ZmqEndpoint = v), s => s.MarketData.ZmqEndpoint),
        Site("MarketData:OpenAlgoUpstreamUrl", Text<SiteOptions>((s, v) => s.MarketData.OpenAlgoUpstreamUrl = v), s => s.MarketData.OpenAlgoUpstreamUrl),
        Site("MarketData:SimulatedTicksPerSecond", Number<SiteOptions>((s, v) => s.MarketData.SimulatedTicksPerSecond = v), s => Number(s.MarketData.SimulatedTicksPerSecond)),
        Site("MarketData:SupportedBrokers", Text<SiteOptions>((s, v) => s.MarketData.SupportedBrokers = v), s => s.MarketData.SupportedBrokers),
        Site("MarketData:StatsFile", Text<SiteOptions>((s, v) => s.MarketData.StatsFile = v), s => s.MarketData.StatsFile),
        Site("MarketData:PerMessageDeflate", Flag<SiteOptions>((s, v) => s.MarketData.PerMessageDeflate = v), s => Bool(s.MarketData.PerMessageDeflate)),

        Site("Auth:Mode", Choice<SiteOptions, AuthMode>((s, v) => s.Auth.Mode = v, "an auth mode"), s => s.Auth.Mode.ToString()),
        SiteElement("Auth:StaticKeys:*:Key", s => s.Auth.StaticKeys, (k, v) => k.Key = v, k => k.Key, secret: true),
        SiteElement("Auth:StaticKeys:*:UserId", s => s.Auth.StaticKeys, (k, v) => k.UserId = v, k => k.UserId),
        SiteElement("Auth:StaticKeys:*:Broker", s => s.Auth.StaticKeys, (k, v) => k.Broker = v, k => k.Broker),
        Site("Auth:DatabasePath", Text<SiteOptions>((s, v) => s.Auth.DatabasePath = v), s => s.Auth.DatabasePath),
        Site("Auth:ApiKeyPepper", Text<SiteOptions>((s, v) => s.Auth.ApiKeyPepper = v), s => s.Auth.ApiKeyPepper, secret: true),

        Site("Limits:MaxClients", Whole<SiteOptions>((s, v) => s.Limits.MaxClients = v), s => Number(s.Limits.MaxClients)),
        Site("Limits:MaxClientsPerUser", Whole<SiteOptions>((s, v) => s.Limits.MaxClientsPerUser = v), s => Number(s.Limits.MaxClientsPerUser)),
        Site("Limits:MaxSymbolsPerClient", Whole<SiteOptions>((s, v) => s.Limits.MaxSymbolsPerClient = v), s => Number(s.Limits.MaxSymbolsPerClient)),
        Site("Limits:SymbolsPerUpstreamConnection", Whole<SiteOptions>((s, v) => s.Limits.SymbolsPerUpstreamConnection = v), s => Number(s.Limits.SymbolsPerUpstreamConnection)),
        Site("Limits:UpstreamConnectionsPerUser", Whole<SiteOptions>((s, v) => s.Limits.UpstreamConnectionsPerUser = v), s => Number(s.Limits.UpstreamConnectionsPerUser)),
        Site("Limits:MaxMessageBytes", Whole<SiteOptions>((s, v) => s.Limits.MaxMessageBytes = v), s => Number(s.Limits.MaxMessageBytes)),
        Site("Limits:MaxSymbolsPerMessage", Whole<SiteOptions>((s, v) => s.Limits.MaxSymbolsPerMessage = v), s => Number(s.Limits.MaxSymbolsPerMessage)),
        Site("Limits:MaxKeysPerObject", Whole<SiteOptions>((s, v) => s.Limits.MaxKeysPerObject = v), s => Number(s.Limits.MaxKeysPerObject)),
        Site("Limits:AuthGraceSeconds", Number<SiteOptions>((s, v) => s.Limits.AuthGraceSeconds = v), s => Number(s.Limits.AuthGraceSeconds)),
        Site("Limits:PingIntervalSeconds", Number<SiteOptions>((s, v) => s.Limits.PingIntervalSeconds = v), s => Number(s.Limits.PingIntervalSeconds)),
        Site("Limits:PingTimeoutSeconds", Number<SiteOptions>((s, v) => s.Limits.PingTimeoutSeconds = v), s => Number(s.Limits.PingTimeoutSeconds)),
        Site("Limits:IdleTimeoutSeconds", Number<SiteOptions>((s, v) => s.Limits.IdleTimeoutSeconds = v), s => Number(s.Limits.IdleTimeoutSeconds)),
        Site("Limits:MaxMessagesPerSecond", Number<SiteOptions>((s, v) => s.Limits.MaxMessagesPerSecond = v), s => Number(s.Limits.MaxMessagesPerSecond)),
        Site("Limits:MessageBurst", Whole<SiteOptions>((s, v) => s.Limits.MessageBurst = v), s => Number(s.Limits.MessageBurst)),
        Site("Limits:ClientQueueFrames", Whole<SiteOptions>((s, v) => s.Limits.ClientQueueFrames = v), s => Number(s.Limits.ClientQueueFrames)),
        Site("Limits:SlowClientTimeoutSeconds", Number<SiteOptions>((s, v) => s.Limits.SlowClientTimeoutSeconds = v), s => Number(s.Limits.SlowClientTimeoutSeconds)),
        Site("Limits:CloseTimeoutSeconds", Number<SiteOptions>((s, v) => s.Limits.CloseTimeoutSeconds = v), s => Number(s.Limits.CloseTimeoutSeconds)),

        Site("Proxy:Upstream", Text<SiteOptions>((s, v) => s.Proxy.Upstream = v), s => s.Proxy.Upstream),
        Site("Proxy:RequireSessionForSocketIo", Flag<SiteOptions>((s, v) => s.Proxy.RequireSessionForSocketIo = v), s => Bool(s.Proxy.RequireSessionForSocketIo)),
        Site("Proxy:SessionCheckPath", Text<SiteOptions>((s, v) => s.Proxy.SessionCheckPath = v), s => s.Proxy.SessionCheckPath),
        Site("Proxy:SessionCacheSeconds", Number<SiteOptions>((s, v) => s.Proxy.SessionCacheSeconds = v), s => Number(s.Proxy.SessionCacheSeconds)),
        Site("Proxy:MaxRequestBodyBytes", Bytes<SiteOptions>((s, v) => s.Proxy.MaxRequestBodyBytes = v), s => Number(s.Proxy.MaxRequestBodyBytes)),
        Site("Proxy:ReadTimeoutSeconds", Number<SiteOptions>((s, v) => s.Proxy.ReadTimeoutSeconds = v), s => Number(s.Proxy.ReadTimeoutSeconds)),
        Site("Proxy:UpgradeIdleTimeoutSeconds", Number<SiteOptions>((s, v) => s.Proxy.UpgradeIdleTimeoutSeconds = v), s => Number(s.Proxy.UpgradeIdleTimeoutSeconds)),

        SiteList("Security:AllowedOrigins:*", s => s.Security.AllowedOrigins),
        Site("Security:CheckWsOrigin", Flag<SiteOptions>((s, v) => s.Security.CheckWsOrigin = v), s => Bool(s.Security.CheckWsOrigin)),
        Site("Security:AuthThrottle:Enabled", Flag<SiteOptions>((s, v) => s.Security.AuthThrottle.Enabled = v), s => Bool(s.Security.AuthThrottle.Enabled)),
        Site("Security:AuthThrottle:FreeFailures", Whole<SiteOptions>((s, v) => s.Security.AuthThrottle.FreeFailures = v), s => Number(s.Security.AuthThrottle.FreeFailures)),
        Site("Security:AuthThrottle:InitialDelaySeconds", Number<SiteOptions>((s, v) => s.Security.AuthThrottle.InitialDelaySeconds = v), s => Number(s.Security.AuthThrottle.InitialDelaySeconds)),
        Site("Security:AuthThrottle:MaxDelaySeconds", Number<SiteOptions>((s, v) => s.Security.AuthThrottle.MaxDelaySeconds = v), s => Number(s.Security.AuthThrottle.MaxDelaySeconds)),
        Site("Security:AuthThrottle:ForgetAfterSeconds", Number<SiteOptions>((s, v) => s.Security.AuthThrottle.ForgetAfterSeconds = v), s => Number(s.Security.AuthThrottle.ForgetAfterSeconds)),

        Global("StateDirectory", Text<ApplianceOptions>((o, v) => o.StateDirectory = v), o => o.StateDirectory),
        Global("LogsDirectory", Text<ApplianceOptions>((o, v) => o.LogsDirectory = v), o => o.LogsDirectory),
        Global("LogLevel", Text<ApplianceOptions>((o, v) => o.LogLevel = v), o => o.LogLevel),
        Global("Logging:MessageTrace:Enabled", Flag<ApplianceOptions>((o, v) => o.Logging.MessageTrace.Enabled = v), o => Bool(o.Logging.MessageTrace.Enabled)),
        GlobalList("Logging:MessageTrace:Sites:*", o => o.Logging.MessageTrace.Sites),
        GlobalList("Logging:MessageTrace:Users:*", o => o.Logging.MessageTrace.Users),
        GlobalList("Logging:MessageTrace:Addresses:*", o => o.Logging.MessageTrace.Addresses),
        Global("Logging:MessageTrace:TickSampleEvery", Whole<ApplianceOptions>((o, v) => o.Logging.MessageTrace.TickSampleEvery = v), o => Number(o.Logging.MessageTrace.TickSampleEvery)),
        Global("Logging:MessageTrace:BytesPerMinute", Bytes<ApplianceOptions>((o, v) => o.Logging.MessageTrace.BytesPerMinute = v), o => Number(o.Logging.MessageTrace.BytesPerMinute)),
    ];

    /// <summary>The keys of one scope.</summary>
    public static IEnumerable<ConfigurationKey> Of(KeyScope scope) => All.Where(k => k.Scope == scope);

    /// <summary>The key a pattern names (case-insensitive, as configuration keys are), or null.</summary>
    public static ConfigurationKey? Find(string pattern) => All.FirstOrDefault(k => k.Pattern.Equals(pattern, StringComparison.OrdinalIgnoreCase));

    /// <summary>The pattern a concrete key matches: array indices become <c>*</c>.</summary>
    public static string Pattern(string key) =>
        string.Join(':', key.Split(':').Select(part => part.Length > 0 && part.All(char.IsAsciiDigit) ? "*" : part));

    // ---- table builders ----

    private static ConfigurationKey Global(string pattern, Func<ApplianceOptions, string, string?> bind, Func<ApplianceOptions, string?> show, bool secret = false) =>
        new(pattern, KeyScope.Global, secret, (o, _, _, text) => bind(o, text), (o, _, _) => show(o));

    private static ConfigurationKey Site(string pattern, Func<SiteOptions, string, string?> bind, Func<SiteOptions, string?> show, bool secret = false) =>
        new(pattern, KeyScope.Site, secret, (_, s, _, text) => bind(s, text), (_, s, _) => show(s));

    private static ConfigurationKey SiteList(string pattern, Func<SiteOptions, List<string>> list) =>
        new(pattern, KeyScope.Site, false, (_, s, i, text) => SetItem(list(s), i, text), (_, s, i) => i < list(s).Count ? list(s)[i] : null);

    private static ConfigurationKey GlobalList(string pattern, Func<ApplianceOptions, List<string>> list) =>
        new(pattern, KeyScope.Global, false, (o, _, i, text) => SetItem(list(o), i, text), (o, _, i) => i < list(o).Count ? list(o)[i] : null);

    private static string? SetItem(List<string> items, int index, string text)
    {
        while (items.Count <= index) items.Add("");
        items[index] = text;
        return null;
    }

    private static ConfigurationKey SiteElement<T>(string pattern, Func<SiteOptions, List<T>> list, Action<T, string> set, Func<T, string> get, bool secret = false)
        where T : new() =>
        new(pattern, KeyScope.Site, secret,
            (_, s, i, text) =>
            {
                var items = list(s);
                while (items.Count <= i) items.Add(new T());
                set(items[i], text);
                return null;
            },
            (_, s, i) => i < list(s).Count ? get(list(s)[i]) : null);

    // ---- value parsers: null when the text parses, else "problem. Fix: fix" ----

    private static Func<T, string, string?> Text<T>(Action<T, string> set) => (target, text) =>
    {
        set(target, text);
        return null;
    };

    private static Func<T, string, string?> Flag<T>(Action<T, bool> set) => (target, text) =>
    {
        if (!bool.TryParse(text.Trim(), out bool value)) return $"'{text}' is not true or false. Fix: write true or false";
        set(target, value);
        return null;
    };

    private static Func<T, string, string?> Whole<T>(Action<T, int> set) => (target, text) =>
    {
        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            return $"'{text}' is not a whole number. Fix: write a number such as 1000, without quotes or units";
        }
        set(target, value);
        return null;
    };

    private static Func<T, string, string?> Bytes<T>(Action<T, long> set) => (target, text) =>
    {
        if (!long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            return $"'{text}' is not a whole number. Fix: write a number of bytes such as 16777216, without quotes or units";
        }
        set(target, value);
        return null;
    };

    private static Func<T, string, string?> Number<T>(Action<T, double> set) => (target, text) =>
    {
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            return $"'{text}' is not a number. Fix: write a number such as 20 or 0.5, without quotes or units";
        }
        set(target, value);
        return null;
    };

    private static Func<T, string, string?> Duration<T>(Action<T, TimeSpan> set) => (target, text) =>
    {
        if (!TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var value))
        {
            return $"'{text}' is not a time span. Fix: write hours:minutes:seconds such as 00:10:00 (days as 1.00:00:00)";
        }
        set(target, value);
        return null;
    };

    private static Func<T, string, string?> Choice<T, TEnum>(Action<T, TEnum> set, string what) where TEnum : struct, Enum => (target, text) =>
    {
        // Names only: Enum.TryParse would also take "2" or "1,2".
        foreach (var value in Enum.GetValues<TEnum>())
        {
            if (value.ToString().Equals(text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                set(target, value);
                return null;
            }
        }
        return $"'{text}' is not {what}. Fix: use {Alternatives<TEnum>()}";
    };

    /// <summary>"A, B or C" for an enum's names.</summary>
    public static string Alternatives<TEnum>() where TEnum : struct, Enum
    {
        var names = Enum.GetNames<TEnum>();
        return names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
    }

    private static string Bool(bool value) => value ? "true" : "false";
    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
