using Microsoft.Extensions.Primitives;
using OpenAlgo.Appliance.MarketData.WebSockets;

namespace OpenAlgo.Appliance.Tests.MarketData.WebSockets;

/// <summary>RFC 7692 §7.1 negotiation, with Python websockets' (OpenAlgo's proxy) answers to bad offers.</summary>
public sealed class PerMessageDeflateNegotiatorTests
{
    [Theory]
    // Chromium and Python websockets' default offer; Firefox's; .NET's ClientWebSocket's.
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover", false, 15)]
    [InlineData("permessage-deflate", "permessage-deflate; server_no_context_takeover", false, 15)]
    [InlineData("permessage-deflate; client_max_window_bits=15; server_max_window_bits=15", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15", false, 15)]
    [InlineData("permessage-deflate; client_no_context_takeover; server_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", true, 15)]
    [InlineData("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", false, 10)]
    [InlineData("permessage-deflate;server_max_window_bits=\"9\";client_max_window_bits=\"12\"", "permessage-deflate; server_no_context_takeover; server_max_window_bits=9", false, 9)]
    [InlineData("permessage-deflate ;\tclient_max_window_bits = 8", "permessage-deflate; server_no_context_takeover", false, 15)]
    // Other extensions are skipped; empty list elements are ignored (RFC 7230 §7).
    [InlineData("x-webkit-deflate-frame, permessage-deflate", "permessage-deflate; server_no_context_takeover", false, 15)]
    [InlineData(", ,permessage-deflate,,", "permessage-deflate; server_no_context_takeover", false, 15)]
    // The first acceptable offer wins: 7 bits is out of range, the second offer is taken.
    [InlineData("permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", true, 15)]
    [InlineData("permessage-deflate; server_max_window_bits=12, permessage-deflate", "permessage-deflate; server_no_context_takeover; server_max_window_bits=12", false, 12)]
    public void Accepts_the_first_acceptable_offer(string offer, string response, bool clientNoContext, int serverBits)
    {
        var result = PerMessageDeflateNegotiator.Negotiate(offer);
        Assert.Equal(DeflateOfferOutcome.Accepted, result.Outcome);
        Assert.Equal(response, result.ResponseHeader);
        Assert.Equal(new DeflateParameters(clientNoContext, serverBits), result.Parameters);
    }

    [Fact]
    public void Offers_may_span_several_header_lines()
    {
        var result = PerMessageDeflateNegotiator.Negotiate(new StringValues(["foo; bar=1", "permessage-deflate; server_max_window_bits=99", "permessage-deflate; server_max_window_bits=11"]));
        Assert.Equal(DeflateOfferOutcome.Accepted, result.Outcome);
        Assert.Equal(11, result.Parameters.ServerMaxWindowBits);
    }

    [Theory]
    [InlineData("permessage-deflate; foo")]                                               // unknown parameter
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")] // repeated
    [InlineData("permessage-deflate; client_max_window_bits; client_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=10; server_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits")]                             // value required
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; server_max_window_bits=7")]
    [InlineData("permessage-deflate; server_max_window_bits=08")]                          // no leading zeros
    [InlineData("permessage-deflate; server_max_window_bits=abc")]
    [InlineData("permessage-deflate; client_max_window_bits=16")]
    [InlineData("permessage-deflate; server_no_context_takeover=1")]                       // takes no value
    [InlineData("permessage-deflate; client_no_context_takeover=\"x\"")]
    [InlineData("permessage-deflate; foo, permessage-deflate; server_max_window_bits=20")]
    public void Declines_offers_with_bad_parameters(string offer)
    {
        var result = PerMessageDeflateNegotiator.Negotiate(offer);
        Assert.Equal(DeflateOfferOutcome.Declined, result.Outcome);
        Assert.Equal("", result.ResponseHeader);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x-webkit-deflate-frame")]
    [InlineData("Permessage-Deflate")] // extension names are matched exactly, as Python websockets does
    public void Nothing_to_negotiate_without_an_offer(string header)
    {
        Assert.Equal(DeflateOfferOutcome.NotOffered, PerMessageDeflateNegotiator.Negotiate(header).Outcome);
        Assert.Equal(DeflateOfferOutcome.NotOffered, PerMessageDeflateNegotiator.Negotiate(StringValues.Empty).Outcome);
    }

    [Theory]
    [InlineData("permessage-deflate x", "expected comma at 19 in permessage-deflate x")]
    [InlineData("permessage-deflate;", "expected token at 19 in permessage-deflate;")]
    [InlineData("permessage-deflate; =10", "expected token at 20 in permessage-deflate; =10")]
    [InlineData("permessage-deflate; server_max_window_bits=", "expected token at 43 in permessage-deflate; server_max_window_bits=")]
    [InlineData("permessage-deflate; server_max_window_bits=\"10", "expected quoted string at 43 in permessage-deflate; server_max_window_bits=\"10")]
    [InlineData("permessage-deflate; a=\"b c\"", "invalid quoted header content at 22 in permessage-deflate; a=\"b c\"")]
    [InlineData(",", "expected token at 1 in ,")]
    [InlineData("@", "expected token at 0 in @")]
    public void A_header_that_does_not_parse_fails_the_handshake(string header, string error)
    {
        var result = PerMessageDeflateNegotiator.Negotiate(header);
        Assert.Equal(DeflateOfferOutcome.Malformed, result.Outcome);
        Assert.Equal("invalid Sec-WebSocket-Extensions header: " + error, result.Error);
    }

    [Theory]
    [InlineData(8, 256)]
    [InlineData(9, 512)]
    [InlineData(14, 16384)]
    [InlineData(15, int.MaxValue)]
    public void A_smaller_window_limits_which_messages_go_compressed(int bits, int limit)
    {
        Assert.Equal(limit, new DeflateParameters(false, bits).MaxCompressedMessageLength);
    }
}
