using System.Buffers;
using Microsoft.AspNetCore.Connections;
using OpenAlgo.Appliance.Configuration;
using OpenAlgo.Appliance.Sites;
using OpenAlgo.Appliance.Tls.Acme;

namespace OpenAlgo.Appliance.Edge;

/// <summary>The site a TLS connection was opened for (its SNI name), set before the handshake.</summary>
internal sealed record SiteConnectionFeature(Site Site);

/// <summary>
/// Before the TLS handshake on the HTTPS listener: reads the ClientHello (without consuming it),
/// picks the site by its SNI name — the one whose <c>Tls:Domains</c> has it, or the only site — and
/// notes a TLS-ALPN-01 validation (a ClientHello offering exactly <c>acme-tls/1</c>). With several
/// sites a name no site serves, or no name at all, gets a fatal <c>unrecognized_name</c> alert,
/// as nginx's <c>ssl_reject_handshake</c> does: never another site's certificate.
/// </summary>
internal sealed partial class SniRouter(SiteRegistry sites, ApplianceOptions options, ILogger<SniRouter> logger)
{
    /// <summary>Connection item holding the name a TLS-ALPN-01 validation is for.</summary>
    public const string AcmeTlsItem = "acme-tls/1";

    /// <summary>
    /// <c>Http:TlsHandshakeTimeoutSeconds</c>, as Kestrel's handshake timeout (which starts after this):
    /// a peer that sends no whole ClientHello within it is dropped (slowloris on the TLS port).
    /// </summary>
    private readonly TimeSpan _helloTimeout = TimeSpan.FromSeconds(options.Http.TlsHandshakeTimeoutSeconds);
    private const int MaxRecord = 16384 + 5;

    // TLS record: alert (21), TLS 1.2, length 2, fatal (2), unrecognized_name (112).
    private static ReadOnlySpan<byte> UnrecognizedName => [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70];

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        string? name = null;
        bool acmeOnly = false;
        using var timeout = new CancellationTokenSource(_helloTimeout);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                var status = Peek(buffer, out name, out acmeOnly);
                if (status == HelloStatus.NeedMore && !result.IsCompleted)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }
                // Nothing consumed or examined: the TLS layer reads the same bytes at once.
                input.AdvanceTo(buffer.Start);
                break;
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var site = sites.ForHost(name);
        if (site is null)
        {
            Log.UnknownName(logger, name ?? "(none)", connection.RemoteEndPoint?.ToString() ?? "?");
            await connection.Transport.Output.WriteAsync(UnrecognizedName.ToArray());
            return;
        }
        connection.Features.Set(new SiteConnectionFeature(site));
        if (acmeOnly && name is not null) connection.Items[AcmeTlsItem] = name;
        await next(connection);
    }

    private enum HelloStatus
    {
        NeedMore,
        Done,
    }

    /// <summary>Done once the first record is complete (parsed or not TLS at all); NeedMore before.</summary>
    private static HelloStatus Peek(ReadOnlySequence<byte> buffer, out string? name, out bool acmeOnly)
    {
        name = null;
        acmeOnly = false;
        if (buffer.Length < 5) return HelloStatus.NeedMore;
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        if (header[0] != 0x16) return HelloStatus.Done; // not a TLS handshake: the TLS layer says so
        int length = 5 + (header[3] << 8 | header[4]);
        if (length > MaxRecord) return HelloStatus.Done;
        if (buffer.Length < length) return HelloStatus.NeedMore;
        if (TlsClientHello.TryParse(buffer.Slice(0, length), out name, out var protocols))
        {
            acmeOnly = protocols is ["acme-tls/1"];
        }
        return HelloStatus.Done;
    }

    private static partial class Log
    {
        [LoggerMessage(1420, LogLevel.Debug, "Refused a TLS handshake for {Name} from {Remote}: no site serves that name (unrecognized_name)")]
        public static partial void UnknownName(ILogger logger, string name, string remote);
    }
}
