using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace OpenAlgo.Appliance.Migration.Discovery;

/// <summary>
/// A certificate an nginx server block serves, and what certbot knows of it when it is one of
/// certbot's lineages (<c>/etc/letsencrypt/live/NAME/fullchain.pem</c> with a
/// <c>renewal/NAME.conf</c>): how it is renewed, with which CA, and the account's contact.
/// </summary>
internal sealed class CertbotLineage
{
    public const string LetsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory";

    public required string CertificateFile { get; init; }
    public required string KeyFile { get; init; }

    /// <summary>certbot's lineage name (the <c>live/</c> folder), or null for a certificate certbot does not manage.</summary>
    public string? Name { get; init; }

    /// <summary><c>/etc/letsencrypt/renewal/NAME.conf</c> when certbot renews it.</summary>
    public string? RenewalFile { get; init; }

    /// <summary>certbot's authenticator (<c>nginx</c>, <c>webroot</c>, <c>standalone</c>, <c>dns-…</c>).</summary>
    public string? Authenticator { get; init; }

    /// <summary>The ACME directory certbot used (<c>server =</c>).</summary>
    public string? Server { get; init; }

    /// <summary>The <c>mailto:</c> contact of certbot's account, without the scheme.</summary>
    public string? Email { get; init; }

    /// <summary>The leaf's DNS names, or empty when the file could not be read.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    public DateTime? NotAfter { get; init; }

    /// <summary>Why the certificate could not be read, or null.</summary>
    public string? Problem { get; init; }

    public bool IsCertbot => RenewalFile is not null;

    /// <summary>certbot renews it by DNS (a wildcard): the appliance's ACME client answers HTTP-01 and TLS-ALPN-01 only.</summary>
    public bool NeedsDns => Authenticator is { } a && a.StartsWith("dns", StringComparison.Ordinal) || Names.Any(n => n.StartsWith("*.", StringComparison.Ordinal));

    public bool Covers(string host) => Names.Any(n => n.Equals(host, StringComparison.OrdinalIgnoreCase)
        || (n.StartsWith("*.", StringComparison.Ordinal) && host.IndexOf('.') is int dot && dot > 0 && host[(dot + 1)..].Equals(n[2..], StringComparison.OrdinalIgnoreCase)));

    public static CertbotLineage Read(SystemRoot root, string certificateFile, string keyFile)
    {
        IReadOnlyList<string> names = [];
        DateTime? notAfter = null;
        string? problem = null;
        try
        {
            using var leaf = X509Certificate2.CreateFromPem(root.ReadAllText(certificateFile));
            names = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).Select(n => n.ToLowerInvariant()).ToList();
            notAfter = leaf.NotAfter.ToUniversalTime();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            problem = ex.Message;
        }

        const string live = "/etc/letsencrypt/live/";
        string? name = certificateFile.StartsWith(live, StringComparison.Ordinal) && certificateFile[live.Length..].Split('/') is { Length: 2 } parts ? parts[0] : null;
        string? renewal = name is null ? null : $"/etc/letsencrypt/renewal/{name}.conf";
        if (renewal is not null && !root.FileExists(renewal)) renewal = null;
        string? authenticator = null, server = null, account = null;
        if (renewal is not null)
        {
            foreach (var line in root.ReadAllText(renewal).Split('\n'))
            {
                int equals = line.IndexOf('=');
                if (equals < 0 || line.TrimStart().StartsWith('#')) continue;
                string key = line[..equals].Trim();
                string value = line[(equals + 1)..].Trim();
                switch (key)
                {
                    case "authenticator": authenticator = value; break;
                    case "server": server = value; break;
                    case "account": account = value; break;
                }
            }
        }
        return new CertbotLineage
        {
            CertificateFile = certificateFile,
            KeyFile = keyFile,
            Name = renewal is null ? null : name,
            RenewalFile = renewal,
            Authenticator = authenticator,
            Server = server,
            Email = account is null ? null : AccountEmail(root, server ?? LetsEncryptProduction, account),
            Names = names,
            NotAfter = notAfter,
            Problem = problem,
        };
    }

    /// <summary>certbot keeps the account under <c>accounts/HOST/PATH/ID/regr.json</c>.</summary>
    private static string? AccountEmail(SystemRoot root, string server, string account)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri)) return null;
        string file = $"/etc/letsencrypt/accounts/{uri.Host}{uri.AbsolutePath.TrimEnd('/')}/{account}/regr.json";
        try
        {
            if (!root.FileExists(file)) return null;
            using var json = JsonDocument.Parse(root.ReadAllText(file));
            if (json.RootElement.TryGetProperty("body", out var body) && body.TryGetProperty("contact", out var contact) && contact.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in contact.EnumerateArray())
                {
                    if (entry.GetString() is { } c && c.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)) return c[7..];
                }
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
