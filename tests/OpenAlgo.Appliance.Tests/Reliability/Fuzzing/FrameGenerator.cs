using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace OpenAlgo.Appliance.Fuzzing;

/// <summary>What the generator needs to know about the server it fuzzes.</summary>
internal sealed record FuzzSettings(string ValidKey, int MaxMessageBytes = 1 << 20, string SymbolPrefix = "FZ")
{
    /// <summary>Share of authenticate messages carrying a wrong key (each feeds the per-address throttle).</summary>
    public double InvalidKeyShare { get; init; } = 0.02;

    /// <summary>Relative weight of the cases that cost the server real work per frame (1 MiB messages, fragment floods).</summary>
    public double HeavyWeight { get; init; } = 1;
}

/// <summary>
/// A seeded generator of client traffic, valid and hostile: OpenAlgo messages (every action, odd
/// values), mutated and non-JSON text, deep nesting, many keys, binary frames, fragment runs and
/// floods with interleaved control frames, compressed messages (RFC 7692) when agreed, and the
/// protocol violations RFC 6455 names — unmasked frames, reserved bits and opcodes, control frames
/// over 125 bytes or fragmented, stray or missing continuations, oversized messages, invalid
/// UTF-8, bad close frames, DEFLATE garbage and bombs, noise masked with the wrong key, frames cut
/// off mid-way. Each case says what the server must answer.
/// </summary>
internal sealed class FrameGenerator(Random random, FuzzSettings settings)
{
    private static readonly string[] Exchanges = ["NSE", "BSE", "NFO", "MCX", "NSE_INDEX", "CDS", "", "nse", "X"];
    private static readonly string[] Actions =
    [
        "authenticate", "auth", "subscribe", "unsubscribe", "unsubscribe_all", "subscribe_orders", "unsubscribe_orders",
        "get_broker_info", "get_supported_brokers", "ping", "bogus", "", "SUBSCRIBE", "subscribe ",
    ];
    private static readonly string[] Unicode = ["×", "₹", "é", "日本", "😀", "\u0000", "\u007f", "\u2028", "\ud7ff", "\ue000", "𝄞"];

    private int _pingCounter;

    public FuzzSettings Settings => settings;

    // ---------------- cases ----------------

    /// <summary>The next case for a connection in the given state.</summary>
    public FuzzCase Next(bool authenticated, bool deflate)
    {
        double heavy = settings.HeavyWeight;
        var table = new (double Weight, Func<FuzzCase> Make)[]
        {
            (30, () => MessageCase(authenticated, binary: false)),
            (4, () => MessageCase(authenticated, binary: true)),
            (15, MutatedCase),
            (10, () => FragmentedCase(authenticated, fragments: random.Next(2, 24), compressed: false)),
            (0.5 * heavy, () => FragmentedCase(authenticated, fragments: random.Next(200, 3000), compressed: false)),
            (8, PingCase),
            (3, UnsolicitedPongCase),
            (deflate ? 8 : 0, () => CompressedCase(authenticated)),
            (deflate ? 2 : 0, () => FragmentedCase(authenticated, fragments: random.Next(2, 12), compressed: true)),
            (2, DeepNestingCase),
            (1, ManyKeysCase),
            (0.2 * heavy, BigMessageCase),
            (1, () => Violation("unmasked", Frame(0x81, Utf8(Message(authenticated)), mask: false), 1002)),
            (0.3, () => Violation("unmasked-ping", Frame(0x89, RandomBytes(random.Next(0, 20)), mask: false), 1002)),
            (1, ReservedBitsCase),
            (deflate ? 0 : 0.4, () => Violation("rsv1-without-deflate", Frame(0xC1, Utf8("{}")), 1002)),
            (1, ReservedOpcodeCase),
            (0.6, ControlTooLongCase),
            (0.5, () => Violation("fragmented-control", Frame(0x09, RandomBytes(random.Next(0, 10))), 1002)),
            (0.5, () => Violation("orphan-continuation", Frame(random.Next(2) == 0 ? 0x80 : 0x00, Utf8("{}")), 1002)),
            (0.5, InterruptedFragmentCase),
            (0.6, DeclaredOversizeCase),
            (0.03 * heavy, OversizeFragmentsCase),
            (0.6, InvalidUtf8Case),
            (0.3, InvalidUtf8FragmentedCase),
            (deflate ? 0.4 : 0, DeflateGarbageCase),
            (deflate ? 0.1 * heavy : 0, DeflateBombCase),
            (deflate ? 0.3 : 0, () => Violation("rsv1-on-continuation", Concat(Frame(0x41, Compress("{\"a\": ")), Frame(0xC0, Utf8("1}"))), 1002, frames: 2)),
            (deflate ? 0.2 : 0, () => Violation("rsv1-on-control", Frame(0xC9, RandomBytes(4)), 1002)),
            (0.6, BadCloseCase),
            (0.5, WrongMaskCase),
            (0.4, ClientCloseCase),
            (0.5, TruncatedCase),
        };
        double total = table.Sum(t => t.Weight);
        double pick = random.NextDouble() * total;
        foreach (var (weight, make) in table)
        {
            if (pick < weight) return make();
            pick -= weight;
        }
        return MessageCase(authenticated, binary: false);
    }

    /// <summary>An authenticate with the valid key (connections mostly start with it, to reach the handlers behind it).</summary>
    public FuzzCase Authenticate()
    {
        string text = $"{{\"action\": \"authenticate\", \"api_key\": \"{settings.ValidKey}\"}}";
        return new FuzzCase { Kind = "authenticate", Bytes = Frame(0x81, Utf8(text)), Frames = 1, Replies = 1, Authenticates = true, ReplyCodes = ["LIMIT_EXCEEDED", "RATE_LIMITED"] };
    }

    private FuzzCase MessageCase(bool authenticated, bool binary)
    {
        var (text, codes, auth, failsAuth) = Generated(authenticated);
        return new FuzzCase
        {
            Kind = binary ? "message-binary" : "message",
            Bytes = Frame(binary ? 0x82 : 0x81, Utf8(text)),
            Frames = 1,
            Replies = 1,
            ReplyCodes = codes,
            Authenticates = auth,
            FailsAuthentication = failsAuth,
        };
    }

    private FuzzCase MutatedCase()
    {
        string text = Mutate(Message(authenticated: true));
        // Binary frames go to json.loads as bytes (spec §3.3): any byte may appear there.
        if (random.Next(4) == 0)
        {
            byte[] raw = Utf8(text);
            if (raw.Length > 0) raw[random.Next(raw.Length)] = (byte)random.Next(256);
            return new FuzzCase { Kind = "mutated-binary", Bytes = Frame(0x82, raw), Frames = 1, Replies = 1 };
        }
        return new FuzzCase { Kind = "mutated", Bytes = Frame(0x81, Utf8(text)), Frames = 1, Replies = 1 };
    }

    /// <summary>
    /// One message in <paramref name="fragments"/> frames cut at random byte offsets (so multi-byte
    /// characters straddle frames, which is legal), with Pings and unsolicited Pongs between them.
    /// </summary>
    private FuzzCase FragmentedCase(bool authenticated, int fragments, bool compressed)
    {
        var (text, codes, auth, failsAuth) = Generated(authenticated);
        byte[] payload = compressed ? Compress(text) : Utf8(text);
        if (fragments > 50)
        {
            // A flood: pad the message with whitespace (JSON allows it) so there is a byte per fragment.
            text = text + new string(' ', Math.Max(0, fragments - payload.Length));
            payload = compressed ? Compress(text) : Utf8(text);
        }
        fragments = Math.Max(2, Math.Min(fragments, payload.Length));
        var cuts = Enumerable.Range(0, fragments - 1).Select(_ => random.Next(1, payload.Length)).Distinct().Order().ToList();
        cuts.Add(payload.Length);
        var wire = new MemoryStream();
        var pongs = new List<byte[]>();
        int frames = 0;
        int start = 0;
        byte opcode = random.Next(5) == 0 ? (byte)0x2 : (byte)0x1;
        for (int i = 0; i < cuts.Count; i++)
        {
            bool first = i == 0;
            bool last = i == cuts.Count - 1;
            int first8 = (last ? 0x80 : 0) | (first && compressed ? 0x40 : 0) | (first ? opcode : 0);
            wire.Write(Frame(first8, payload.AsSpan(start, cuts[i] - start)));
            frames++;
            start = cuts[i];
            if (!last && random.Next(8) == 0)
            {
                if (random.Next(3) == 0)
                {
                    wire.Write(Frame(0x8A, RandomBytes(random.Next(0, 16))));
                }
                else
                {
                    byte[] ping = PingPayload();
                    pongs.Add(ping);
                    wire.Write(Frame(0x89, ping));
                }
                frames++;
            }
        }
        return new FuzzCase
        {
            Kind = fragments > 50 ? "fragment-flood" : compressed ? "compressed-fragmented" : "fragmented",
            Bytes = wire.ToArray(),
            Frames = frames,
            Replies = 1,
            ReplyCodes = codes,
            Pongs = pongs,
            Authenticates = auth,
            FailsAuthentication = failsAuth,
        };
    }

    private FuzzCase PingCase()
    {
        byte[] ping = random.Next(10) == 0 ? RandomBytes(125) : PingPayload();
        return new FuzzCase { Kind = "ping", Bytes = Frame(0x89, ping), Frames = 1, Pongs = [ping] };
    }

    /// <summary>An unsolicited Pong must be ignored; a Ping after it shows the server moved on.</summary>
    private FuzzCase UnsolicitedPongCase()
    {
        byte[] ping = PingPayload();
        return new FuzzCase
        {
            Kind = "unsolicited-pong",
            Bytes = Concat(Frame(0x8A, RandomBytes(random.Next(0, 126))), Frame(0x89, ping)),
            Frames = 2,
            Pongs = [ping],
        };
    }

    private FuzzCase CompressedCase(bool authenticated)
    {
        var (text, codes, auth, failsAuth) = Generated(authenticated);
        return new FuzzCase
        {
            Kind = "compressed",
            Bytes = Frame(random.Next(5) == 0 ? 0xC2 : 0xC1, Compress(text)),
            Frames = 1,
            Replies = 1,
            ReplyCodes = codes,
            Authenticates = auth,
            FailsAuthentication = failsAuth,
        };
    }

    private FuzzCase DeepNestingCase()
    {
        int depth = random.Next(6) switch
        {
            0 => 511,
            1 => 512,
            2 => 513,
            3 => random.Next(1, 2000),
            4 => random.Next(10_000, 200_000),
            _ => random.Next(400, 700),
        };
        bool objects = random.Next(2) == 0;
        if (objects) depth = Math.Min(depth, (settings.MaxMessageBytes - 100) / 7); // {"a": …} is 7 bytes a level: stay under the size limit
        var text = new StringBuilder();
        for (int i = 0; i < depth; i++) text.Append(objects ? "{\"a\": " : "[");
        text.Append('1');
        bool close = random.Next(4) != 0;
        if (close) for (int i = 0; i < depth; i++) text.Append(objects ? '}' : ']');
        return new FuzzCase { Kind = "deep-nesting", Bytes = Frame(0x81, Utf8(text.ToString())), Frames = 1, Replies = 1, ErrorOnly = true, ReplyCodes = ["INVALID_JSON", "SERVER_ERROR", "INVALID_ACTION", "RATE_LIMITED"] };
    }

    private FuzzCase ManyKeysCase()
    {
        int keys = random.Next(2) == 0 ? random.Next(1001, 1100) : random.Next(1100, 50_000);
        var text = new StringBuilder("{");
        for (int i = 0; i < keys; i++) text.Append('"').Append('k').Append(i).Append("\": ").Append(i).Append(", ");
        text.Append("\"action\": \"ping\"}");
        return new FuzzCase { Kind = "many-keys", Bytes = Frame(0x81, Utf8(text.ToString())), Frames = 1, Replies = 1, ErrorOnly = true, ReplyCodes = ["LIMIT_EXCEEDED", "RATE_LIMITED"] };
    }

    /// <summary>A legal message close to the size limit (a ping padded with a long string).</summary>
    private FuzzCase BigMessageCase()
    {
        int size = random.Next(100_000, settings.MaxMessageBytes - 64);
        string text = "{\"action\": \"ping\", \"pad\": \"" + new string('x', size) + "\"}";
        return new FuzzCase { Kind = "big-message", Bytes = Frame(0x81, Utf8(text)), Frames = 1, Replies = 1, ReplyCodes = ["RATE_LIMITED"] };
    }

    private FuzzCase ReservedBitsCase()
    {
        int rsv = random.Next(2) == 0 ? 0x20 : 0x10;
        if (random.Next(3) == 0) rsv |= 0x40;
        int opcode = random.Next(3) switch { 0 => 0x1, 1 => 0x2, _ => 0x9 };
        return Violation("reserved-bits", Frame(0x80 | rsv | opcode, Utf8("{}")), 1002);
    }

    private FuzzCase ReservedOpcodeCase()
    {
        int[] reserved = [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF];
        return Violation("reserved-opcode", Frame(0x80 | reserved[random.Next(reserved.Length)], RandomBytes(random.Next(0, 20))), 1002);
    }

    private FuzzCase ControlTooLongCase()
    {
        int opcode = random.Next(3) switch { 0 => 0x8, 1 => 0x9, _ => 0xA };
        byte[] payload = RandomBytes(random.Next(126, 2000));
        if (opcode == 0x8) BinaryPrimitives.WriteUInt16BigEndian(payload, 1000);
        return Violation("control-too-long", Frame(0x80 | opcode, payload), 1002);
    }

    private FuzzCase InterruptedFragmentCase()
    {
        // A new data frame while a fragmented message is open.
        return Violation("interrupted-fragment", Concat(Frame(0x01, Utf8("{\"action\": ")), Frame(0x81, Utf8("\"ping\"}"))), 1002, frames: 2);
    }

    private FuzzCase DeclaredOversizeCase()
    {
        // Only the header is sent: the size is refused before any payload is buffered.
        long declared = random.Next(4) switch
        {
            0 => settings.MaxMessageBytes + 1L,
            1 => 1L << 32,
            2 => long.MaxValue,
            _ => random.NextInt64(settings.MaxMessageBytes + 1L, long.MaxValue),
        };
        var header = new byte[14];
        header[0] = (byte)(random.Next(2) == 0 ? 0x81 : 0x82);
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), random.Next(8) == 0 ? ulong.MaxValue : (ulong)declared);
        random.NextBytes(header.AsSpan(10));
        return Violation("declared-oversize", header, 1009);
    }

    private FuzzCase OversizeFragmentsCase()
    {
        int half = settings.MaxMessageBytes / 2 + 16;
        byte[] part = Utf8(new string(' ', half));
        return Violation("oversize-fragments", Concat(Frame(0x01, part), Frame(0x80, part)), 1009, frames: 2);
    }

    private FuzzCase InvalidUtf8Case()
    {
        byte[] text = Utf8(Message(authenticated: true));
        byte[][] bad = [[0xFF], [0xC0, 0x80], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]];
        byte[] poison = bad[random.Next(bad.Length)];
        int at = random.Next(text.Length + 1);
        // A cut-off sequence is only invalid at the end.
        if (poison.Length == 2 && poison[0] == 0xE2) at = text.Length;
        byte[] payload = [.. text.AsSpan(0, at), .. poison, .. text.AsSpan(at)];
        return Violation("invalid-utf8", Frame(0x81, payload), 1007);
    }

    private FuzzCase InvalidUtf8FragmentedCase()
    {
        byte[] a = Utf8("{\"action\": \"ping\", \"x\": \"");
        byte[] b = [0xC3, 0x28];
        byte[] c = Utf8("\"}");
        return Violation("invalid-utf8-fragmented", Concat(Frame(0x01, a), Frame(0x00, b), Frame(0x80, c)), 1007, frames: 3);
    }

    private FuzzCase DeflateGarbageCase()
    {
        // BTYPE 11 is reserved in DEFLATE (RFC 1951 §3.2.3): never a valid block.
        byte[] payload = RandomBytes(random.Next(1, 200));
        payload[0] = (byte)(0x06 | (payload[0] & 0x01) | (payload[0] & 0xF8));
        return Violation("deflate-garbage", Frame(0xC1, payload), 1002);
    }

    private FuzzCase DeflateBombCase()
    {
        string text = "{\"action\": \"ping\", \"pad\": \"" + new string('A', settings.MaxMessageBytes + 1000) + "\"}";
        return Violation("deflate-bomb", Frame(0xC1, Compress(text)), 1009);
    }

    private FuzzCase BadCloseCase()
    {
        switch (random.Next(3))
        {
            case 0:
                int[] invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
                var payload = new byte[2 + random.Next(0, 20)];
                BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)invalid[random.Next(invalid.Length)]);
                for (int i = 2; i < payload.Length; i++) payload[i] = (byte)'a';
                return Violation("close-invalid-code", Frame(0x88, payload), 1002);
            case 1:
                return Violation("close-one-byte", Frame(0x88, [0x03]), 1002);
            default:
                return Violation("close-invalid-utf8", Frame(0x88, [0x03, 0xE8, 0xFF, 0xFE]), 1007);
        }
    }

    /// <summary>Mask bit set, payload masked with another key: the server reads noise.</summary>
    private FuzzCase WrongMaskCase()
    {
        byte[] payload = Utf8(Message(authenticated: true));
        byte[] frame = Frame(0x81, payload);
        int keyAt = frame.Length - payload.Length - 4;
        frame[keyAt] ^= (byte)random.Next(1, 256);
        return new FuzzCase { Kind = "wrong-mask", Bytes = frame, Frames = 1, Replies = 1, CloseCodes = [1007], CloseOrReply = true };
    }

    private FuzzCase ClientCloseCase()
    {
        if (random.Next(4) == 0) return new FuzzCase { Kind = "client-close", Bytes = Frame(0x88, []), Frames = 1, CloseCodes = [1000] };
        int[] valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
        int code = random.Next(3) == 0 ? random.Next(3000, 5000) : valid[random.Next(valid.Length)];
        byte[] reason = Utf8(RandomText(random.Next(0, 40)));
        if (reason.Length > 123) reason = reason[..123];
        var payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reason.CopyTo(payload, 2);
        // A reason cut inside a character is invalid UTF-8 (1007); otherwise the code is echoed.
        bool validReason = System.Text.Unicode.Utf8.IsValid(reason);
        return new FuzzCase { Kind = "client-close", Bytes = Frame(0x88, payload), Frames = 1, CloseCodes = validReason ? [code] : [1007] };
    }

    private FuzzCase TruncatedCase()
    {
        byte[] frame = Frame(0x81, Utf8(Message(authenticated: true)));
        int keep = random.Next(1, frame.Length);
        return new FuzzCase { Kind = "truncated", Bytes = frame[..keep], Frames = 1, Hangup = true };
    }

    private static FuzzCase Violation(string kind, byte[] bytes, int code, int frames = 1) =>
        new() { Kind = kind, Bytes = bytes, Frames = frames, CloseCodes = [code] };

    // ---------------- messages ----------------

    /// <summary>A generated message with what its reply may be.</summary>
    private (string Text, IReadOnlyCollection<string>? Codes, bool Authenticates, bool FailsAuthentication) Generated(bool authenticated)
    {
        if (random.Next(12) == 0)
        {
            if (random.NextDouble() < settings.InvalidKeyShare * 12)
            {
                string wrong = random.Next(3) == 0 ? "" : RandomHex(random.Next(1, 80));
                string field = random.Next(4) == 0 ? "apikey" : "api_key";
                return ($"{{\"action\": \"authenticate\", \"{field}\": \"{wrong}\"}}", ["AUTHENTICATION_ERROR", "RATE_LIMITED"], false, wrong.Length > 0);
            }
            return ($"{{\"action\": \"authenticate\", \"api_key\": \"{settings.ValidKey}\"}}", ["LIMIT_EXCEEDED", "RATE_LIMITED"], true, false);
        }
        return (Message(authenticated), null, false, false);
    }

    /// <summary>An OpenAlgo client message, well-formed JSON, with odd values now and then; never an authenticate.</summary>
    public string Message(bool authenticated)
    {
        string action = Actions[random.Next(Actions.Length)];
        if (action is "authenticate" or "auth") action = "ping";
        var parts = new List<string>();
        if (random.Next(10) == 0) parts.Add($"\"type\": {JsonString(action)}");
        else if (random.Next(20) == 0) parts.Add($"\"action\": {RandomJson(2)}");
        else parts.Add($"\"action\": {JsonString(action)}");
        switch (action)
        {
            case "subscribe" or "unsubscribe" or "SUBSCRIBE":
                if (random.Next(3) > 0) parts.Add($"\"symbols\": {Symbols()}");
                else parts.Add($"\"symbol\": {JsonString(Symbol())}, \"exchange\": {JsonString(Exchanges[random.Next(Exchanges.Length)])}");
                if (random.Next(3) > 0) parts.Add($"\"mode\": {Mode()}");
                if (random.Next(4) == 0) parts.Add($"\"depth\": {(random.Next(2) == 0 ? random.Next(0, 60).ToString(System.Globalization.CultureInfo.InvariantCulture) : RandomJson(1))}");
                break;
            case "ping":
                if (random.Next(2) == 0) parts.Add($"\"timestamp\": {RandomJson(1)}");
                if (random.Next(2) == 0) parts.Add($"\"_pingId\": {RandomJson(1)}");
                break;
        }
        if (random.Next(4) == 0) parts.Add($"\"request_id\": {RandomJson(2)}");
        if (random.Next(6) == 0) parts.Add($"{JsonString(RandomText(random.Next(1, 10)))}: {RandomJson(2)}");
        var ordered = parts.OrderBy(_ => random.Next(3)).ToList();
        string separator = random.Next(8) == 0 ? "," : ", ";
        return "{" + string.Join(separator, ordered) + "}";
    }

    private string Symbols()
    {
        switch (random.Next(10))
        {
            case 0: return RandomJson(2);                                     // not a list: SERVER_ERROR texts
            case 1: return "[" + RandomJson(1) + ", " + Entry() + "]";          // a non-object entry mid-list
            case 2: return "[]";
        }
        int n = random.Next(8) == 0 ? random.Next(100, 400) : random.Next(1, 12);
        return "[" + string.Join(", ", Enumerable.Range(0, n).Select(_ => Entry())) + "]";
    }

    private string Entry()
    {
        var fields = new List<string>();
        if (random.Next(10) > 0) fields.Add($"\"symbol\": {(random.Next(15) == 0 ? RandomJson(1) : JsonString(Symbol()))}");
        if (random.Next(10) > 0) fields.Add($"\"exchange\": {JsonString(Exchanges[random.Next(Exchanges.Length)])}");
        if (random.Next(3) == 0) fields.Add($"\"mode\": {Mode()}");
        return "{" + string.Join(", ", fields) + "}";
    }

    private string Symbol() => random.Next(20) == 0 ? RandomText(random.Next(0, 30)) : settings.SymbolPrefix + random.Next(0, 500);

    private string Mode() => random.Next(12) switch
    {
        0 => "1",
        1 => "2",
        2 => "3",
        3 => "\"LTP\"",
        4 => "\" quote \"",
        5 => "\"Depth\"",
        6 => "5",
        7 => "true",
        8 => "1.0",
        9 => "null",
        10 => "\"1\"",
        _ => RandomJson(1),
    };

    /// <summary>A random JSON value: scalars of every kind (huge, negative zero, NaN, escapes), lists, objects.</summary>
    public string RandomJson(int depth)
    {
        int pick = random.Next(depth > 0 ? 14 : 11);
        return pick switch
        {
            0 => "null",
            1 => "true",
            2 => "false",
            3 => random.Next(-1000, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            4 => (random.NextDouble() * 1e6).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            5 => random.Next(6) switch { 0 => "NaN", 1 => "Infinity", 2 => "-0", 3 => "1e400", 4 => "-1E-400", _ => new string('9', random.Next(20, 5000)) },
            6 or 7 => JsonString(RandomText(random.Next(0, 20))),
            8 => "\"\\ud800\"",
            9 => "\"\\u00e9\\n\\t\\\"\\\\\"",
            10 => JsonString(new string('s', random.Next(100, 3000))),
            11 => "[" + string.Join(", ", Enumerable.Range(0, random.Next(0, 5)).Select(_ => RandomJson(depth - 1))) + "]",
            _ => "{" + string.Join(", ", Enumerable.Range(0, random.Next(0, 5)).Select(i => $"\"k{i}\": {RandomJson(depth - 1)}")) + "}",
        };
    }

    /// <summary>Breaks a JSON text: truncation, stray or doubled bytes, swapped quotes, comments, trailing commas, a BOM.</summary>
    public string Mutate(string text)
    {
        int rounds = random.Next(1, 4);
        for (int r = 0; r < rounds && text.Length > 0; r++)
        {
            int at = random.Next(text.Length);
            text = random.Next(11) switch
            {
                0 => text[..at],
                1 => text.Remove(at, 1),
                2 => text.Insert(at, ((char)random.Next(32, 127)).ToString()),
                3 => text.Insert(at, text[..Math.Min(text.Length, random.Next(1, 20))]),
                4 => text.Replace('"', '\''),
                5 => text.Insert(at, "/* c */"),
                6 => text.Replace("}", ",}"),
                7 => "\uFEFF" + text,
                8 => random.Next(2) == 0 ? RandomJson(2) : "",
                9 => text.Insert(at, Unicode[random.Next(Unicode.Length)]),
                _ => text + text,
            };
        }
        return text;
    }

    // ---------------- bytes ----------------

    private byte[] PingPayload()
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(payload, Interlocked.Increment(ref _pingCounter));
        random.NextBytes(payload.AsSpan(4));
        return payload;
    }

    private string RandomText(int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(random.Next(6) == 0 ? Unicode[random.Next(Unicode.Length)] : ((char)random.Next(32, 127)).ToString());
        }
        return text.ToString();
    }

    private string RandomHex(int length)
    {
        const string hex = "0123456789abcdef";
        return string.Create(length, random, (span, r) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = hex[r.Next(16)];
        });
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value, FuzzJson.Default.String);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>RFC 7692 §7.2.1: raw DEFLATE, sync-flushed, the trailing 00 00 FF FF removed.</summary>
    public static byte[] Compress(string text)
    {
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(Encoding.UTF8.GetBytes(text));
            deflate.Flush();
        }
        byte[] bytes = output.ToArray();
        // Disposing adds a final empty block after the sync flush; cut at the flush marker.
        int marker = LastIndexOf(bytes, [0x00, 0x00, 0xFF, 0xFF]);
        return marker >= 0 ? bytes[..marker] : bytes;
    }

    private static int LastIndexOf(byte[] data, byte[] pattern)
    {
        for (int i = data.Length - pattern.Length; i >= 0; i--)
        {
            if (data.AsSpan(i, pattern.Length).SequenceEqual(pattern)) return i;
        }
        return -1;
    }

    /// <summary>One client frame: <paramref name="first"/> is FIN|RSV|opcode; masked with a random key unless told not to.</summary>
    public byte[] Frame(int first, ReadOnlySpan<byte> payload, bool mask = true)
    {
        int lengthBytes = payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        var frame = new byte[2 + lengthBytes + (mask ? 4 : 0) + payload.Length];
        frame[0] = (byte)first;
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        int at = 2;
        if (lengthBytes == 0)
        {
            frame[1] = (byte)(maskBit | payload.Length);
        }
        else if (lengthBytes == 2)
        {
            frame[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
            at = 4;
        }
        else
        {
            frame[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
            at = 10;
        }
        if (!mask)
        {
            payload.CopyTo(frame.AsSpan(at));
            return frame;
        }
        Span<byte> key = frame.AsSpan(at, 4);
        random.NextBytes(key);
        at += 4;
        for (int i = 0; i < payload.Length; i++) frame[at + i] = (byte)(payload[i] ^ key[i & 3]);
        return frame;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class FuzzJson : System.Text.Json.Serialization.JsonSerializerContext;
