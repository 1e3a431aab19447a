using System.Text;
using Microsoft.Extensions.Primitives;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>What the server agreed to for one connection's permessage-deflate (RFC 7692).</summary>
/// <param name="ClientNoContextTakeover">The client resets its compressor per message, so our inflater needs no state between messages.</param>
/// <param name="ServerMaxWindowBits">The window the client asked us to stay within (15 when it did not ask).</param>
internal readonly record struct DeflateParameters(bool ClientNoContextTakeover, int ServerMaxWindowBits)
{
    /// <summary>
    /// The longest message we may send compressed. We always answer <c>server_no_context_takeover</c>,
    /// so every message is compressed from an empty window and no back-reference reaches further
    /// than the message's own start: a message of at most 2^bits bytes fits any window the client
    /// asked for. Longer ones go out uncompressed (RFC 7692 §6 lets the sender choose per message),
    /// so the compressed bytes of a tick are the same for every client whatever window it asked for.
    /// </summary>
    public int MaxCompressedMessageLength => ServerMaxWindowBits >= 15 ? int.MaxValue : 1 << ServerMaxWindowBits;
}

internal enum DeflateOfferOutcome
{
    /// <summary>No <c>permessage-deflate</c> offer (the OpenAlgo SDK's websocket-client sends none).</summary>
    NotOffered,
    /// <summary>Offered, but no offer was acceptable (unknown or repeated parameters, bad values): no compression.</summary>
    Declined,
    Accepted,
    /// <summary>The <c>Sec-WebSocket-Extensions</c> header breaks RFC 6455 §9.1's grammar: the handshake fails with 400.</summary>
    Malformed,
}

internal readonly record struct DeflateNegotiation(DeflateOfferOutcome Outcome, DeflateParameters Parameters = default, string ResponseHeader = "", string Error = "");

/// <summary>
/// The server side of RFC 7692 §7.1: picks the first acceptable <c>permessage-deflate</c> offer of
/// the <c>Sec-WebSocket-Extensions</c> request header and builds the response. The rules follow
/// Python websockets (OpenAlgo's proxy): a header that does not parse fails the handshake (400);
/// an offer with an unknown, repeated or ill-valued parameter is declined and the next one tried.
/// The answer always carries <c>server_no_context_takeover</c> (§7.1.1.1 allows it unasked), which
/// is what lets the hub compress a tick once for all its recipients.
/// </summary>
internal static class PerMessageDeflateNegotiator
{
    public const string ExtensionName = "permessage-deflate";
    public const string HeaderName = "Sec-WebSocket-Extensions";

    public static DeflateNegotiation Negotiate(StringValues headerValues)
    {
        if (StringValues.IsNullOrEmpty(headerValues)) return new(DeflateOfferOutcome.NotOffered);
        var offers = new List<List<(string Name, string? Value)>>();
        foreach (string? value in headerValues)
        {
            string header = (value ?? "").Trim(' ', '\t');
            if (header.Length == 0) continue; // an empty field line offers nothing
            if (!TryParseList(header, out var extensions, out string? error)) return new(DeflateOfferOutcome.Malformed, Error: error!);
            foreach (var (name, parameters) in extensions)
            {
                if (string.Equals(name, ExtensionName, StringComparison.Ordinal)) offers.Add(parameters);
            }
        }
        if (offers.Count == 0) return new(DeflateOfferOutcome.NotOffered);
        foreach (var offer in offers)
        {
            if (TryAccept(offer, out var parameters, out string response))
            {
                return new(DeflateOfferOutcome.Accepted, parameters, response);
            }
        }
        return new(DeflateOfferOutcome.Declined);
    }

    /// <summary>RFC 7692 §7.1: declines (false) an offer with a parameter it does not define, a repeated one, or a bad value.</summary>
    private static bool TryAccept(List<(string Name, string? Value)> offer, out DeflateParameters parameters, out string response)
    {
        parameters = default;
        response = "";
        bool serverNoContext = false, clientNoContext = false;
        int serverBits = 0, clientBits = 0; // 0 = absent; clientBits -1 = present without a value
        foreach (var (name, value) in offer)
        {
            switch (name)
            {
                case "server_no_context_takeover":
                    if (serverNoContext || value is not null) return false;
                    serverNoContext = true;
                    break;
                case "client_no_context_takeover":
                    if (clientNoContext || value is not null) return false;
                    clientNoContext = true;
                    break;
                case "server_max_window_bits":
                    if (serverBits != 0 || !TryWindowBits(value, out serverBits)) return false;
                    break;
                case "client_max_window_bits":
                    if (clientBits != 0) return false;
                    if (value is null) clientBits = -1;
                    else if (!TryWindowBits(value, out clientBits)) return false;
                    break;
                default:
                    return false;
            }
        }
        // server_no_context_takeover: answered whether asked or not (§7.1.1.1).
        // client_no_context_takeover: echoed when offered; never imposed, so a client that keeps its
        //   context gets a per-connection inflater that keeps ours.
        // server_max_window_bits: accepted with the same value (§7.1.2.1); see DeflateParameters.
        // client_max_window_bits: never answered (§7.1.2.2 makes it optional). Our inflater's window
        //   is 32 KiB whatever the client uses, so limiting the client would save us nothing.
        var header = new StringBuilder(ExtensionName).Append("; server_no_context_takeover");
        if (clientNoContext) header.Append("; client_no_context_takeover");
        if (serverBits != 0) header.Append("; server_max_window_bits=").Append(serverBits);
        parameters = new DeflateParameters(clientNoContext, serverBits == 0 ? 15 : serverBits);
        response = header.ToString();
        return true;
    }

    /// <summary>8 to 15, written without leading zeros (RFC 7692 §7.1.2.1), as Python websockets accepts.</summary>
    private static bool TryWindowBits(string? value, out int bits)
    {
        bits = value switch
        {
            "8" => 8, "9" => 9, "10" => 10, "11" => 11, "12" => 12, "13" => 13, "14" => 14, "15" => 15,
            _ => 0,
        };
        return bits != 0;
    }

    // RFC 6455 §9.1 on RFC 7230's list rule:
    //   extension-list = 1#extension;  extension = extension-token *( ";" extension-param )
    //   extension-param = token [ "=" (token | quoted-string) ]   (a quoted value must unquote to a token)
    // Empty list elements are skipped (RFC 7230 §7: a recipient MUST accept them).
    private static bool TryParseList(string header, out List<(string Name, List<(string Name, string? Value)> Parameters)> items, out string? error)
    {
        items = [];
        error = null;
        int pos = SkipOws(header, 0);
        bool any = false;
        while (true)
        {
            while (Peek(header, pos) == ',') pos = SkipOws(header, pos + 1);
            if (pos == header.Length) break;
            if (!TryToken(header, ref pos, out string name)) return Fail(header, pos, "expected token", out error);
            pos = SkipOws(header, pos);
            var parameters = new List<(string, string?)>();
            while (Peek(header, pos) == ';')
            {
                pos = SkipOws(header, pos + 1);
                if (!TryToken(header, ref pos, out string parameter)) return Fail(header, pos, "expected token", out error);
                pos = SkipOws(header, pos);
                string? value = null;
                if (Peek(header, pos) == '=')
                {
                    pos = SkipOws(header, pos + 1);
                    if (Peek(header, pos) == '"')
                    {
                        int start = pos;
                        if (!TryQuotedString(header, ref pos, out value)) return Fail(header, start, "expected quoted string", out error);
                        int inner = 0;
                        if (!TryToken(value, ref inner, out _) || inner != value.Length) return Fail(header, start, "invalid quoted header content", out error);
                    }
                    else if (!TryToken(header, ref pos, out value))
                    {
                        return Fail(header, pos, "expected token", out error);
                    }
                    pos = SkipOws(header, pos);
                }
                parameters.Add((parameter, value));
            }
            items.Add((name, parameters));
            any = true;
            if (pos == header.Length) break;
            if (Peek(header, pos) != ',') return Fail(header, pos, "expected comma", out error);
        }
        if (!any) return Fail(header, pos, "expected token", out error);
        return true;
    }

    private static bool Fail(string header, int pos, string what, out string? error)
    {
        // Python websockets' InvalidHeaderFormat wording: "<what> at <pos> in <header>".
        error = $"invalid {HeaderName} header: {what} at {pos} in {header}";
        return false;
    }

    private static char? Peek(string s, int pos) => pos < s.Length ? s[pos] : null;

    private static int SkipOws(string s, int pos)
    {
        while (pos < s.Length && s[pos] is ' ' or '\t') pos++;
        return pos;
    }

    private static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
          or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    private static bool TryToken(string s, ref int pos, out string token)
    {
        int start = pos;
        while (pos < s.Length && IsTokenChar(s[pos])) pos++;
        token = s[start..pos];
        return pos > start;
    }

    // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    private static bool TryQuotedString(string s, ref int pos, out string value)
    {
        value = "";
        int i = pos + 1;
        var text = new StringBuilder();
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '"')
            {
                value = text.ToString();
                pos = i + 1;
                return true;
            }
            if (c == '\\')
            {
                if (i + 1 >= s.Length || !(s[i + 1] is '\t' or (>= ' ' and <= '~') or (>= '\u0080' and <= '\u00ff'))) return false;
                text.Append(s[i + 1]);
                i += 2;
                continue;
            }
            if (!(c is '\t' or ' ' or '!' or (>= '#' and <= '[') or (>= ']' and <= '~') or (>= '\u0080' and <= '\u00ff'))) return false;
            text.Append(c);
            i++;
        }
        return false;
    }
}
