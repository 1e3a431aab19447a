using System.Buffers;
using System.Text;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Protocol;

public sealed class PyJsonReaderTests
{
    private static string Rewrite(string json)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.True(PyJsonReader.TryRewrite(Encoding.UTF8.GetBytes(json), output), $"rejected: {json}");
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData("{\"ltp\":800.10,\"volume\":100}", "{\"ltp\": 800.1, \"volume\": 100}")]
    [InlineData("{\"a\" : [1,2 , {\"b\":null}],\"c\":true,\"d\":false}", "{\"a\": [1, 2, {\"b\": null}], \"c\": true, \"d\": false}")]
    [InlineData("{\"x\": -0}", "{\"x\": 0}")]
    [InlineData("{\"x\": 1E5}", "{\"x\": 100000.0}")]
    [InlineData("{\"x\": 1e400}", "{\"x\": Infinity}")]
    [InlineData("{\"x\": NaN, \"y\": -Infinity}", "{\"x\": NaN, \"y\": -Infinity}")]
    [InlineData("{\"s\": \"\\u00d7 \\/ \\t\"}", "{\"s\": \"\\u00d7 / \\t\"}")]
    [InlineData("{\"s\": \"×😀\"}", "{\"s\": \"\\u00d7\\ud83d\\ude00\"}")]
    [InlineData("{\"big\": 123456789012345678901234567890}", "{\"big\": 123456789012345678901234567890}")]
    [InlineData("[]", "[]")]
    [InlineData(" {} ", "{}")]
    public void Rewrites_as_json_dumps_after_json_loads(string input, string expected)
    {
        Assert.Equal(expected, Rewrite(input));
    }

    [Theory]
    [InlineData("{\"a\": 1,}")]
    [InlineData("{'a': 1}")]
    [InlineData("{\"a\": 01}")]
    [InlineData("{\"a\": 1.}")]
    [InlineData("{\"a\": \"tab\there\"}")]
    [InlineData("{\"a\": 1} x")]
    [InlineData("")]
    [InlineData("{\"a\": \"\\x\"}")]
    public void Rejects_what_json_loads_rejects(string input)
    {
        Assert.False(PyJsonReader.TryRewrite(Encoding.UTF8.GetBytes(input), new ArrayBufferWriter<byte>()));
        Assert.Throws<PyJsonException>(() => PyJsonReader.Parse(Encoding.UTF8.GetBytes(input)));
    }

    /// <summary>
    /// The rewrite copies literals json.dumps would write unchanged (plain strings, floats already in
    /// repr form) instead of decoding and formatting them: thousands of random literals — digits from
    /// 1 to 18, trailing zeros, values around 1e-4 and 1e16, escapes, non-ASCII, DEL — must still come
    /// out exactly as CPython's json.dumps(json.loads(x)).
    /// </summary>
    [Fact]
    public void Copied_literals_match_cpython_on_random_floats_and_strings()
    {
        var random = new Random(15);
        var literals = new List<string>();
        for (int i = 0; i < 4000; i++)
        {
            string whole = random.Next(4) switch
            {
                0 => "0",
                1 => random.Next(1, 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => random.Next(1, 10) + new string(Enumerable.Range(0, random.Next(0, 17)).Select(_ => (char)('0' + random.Next(10))).ToArray()),
            };
            string fraction = random.Next(5) switch
            {
                0 => "0",
                1 => new string('0', random.Next(1, 7)) + random.Next(1, 1000),
                2 => new string(Enumerable.Range(0, random.Next(1, 12)).Select(_ => (char)('0' + random.Next(10))).ToArray()) + "0",
                _ => new string(Enumerable.Range(0, random.Next(1, 12)).Select(_ => (char)('0' + random.Next(10))).ToArray()),
            };
            string number = (random.Next(6) == 0 ? "-" : "") + whole + "." + fraction + (random.Next(10) == 0 ? "e" + random.Next(-20, 20) : "");
            literals.Add(number);
        }
        // As they appear between the quotes of a JSON document: escapes stay escapes.
        string[] strings = ["plain", "", "with space", "tab\\tin", "quote \\\" in", "back\\\\slash", "caf\\u00e9", "caf\u00e9", "del \u007f", "\\u0001", "~!@#$%^&*()_+{}|:<>?`-=[];',./", "\\ud83d\\ude00"];
        literals.AddRange(strings.Select(t => "\"" + t + "\""));
        string document = "[" + string.Join(", ", literals) + "]";
        string expected = Python.Run("import sys,json\nprint(json.dumps(json.loads(sys.stdin.read())))", document).TrimEnd('\n');
        Assert.Equal(expected, Rewrite(document));
        // The copy is taken for most of them (else this test would not exercise it).
        Assert.True(literals.Count(l => l[0] != '"' && PyJsonReader.IsFloatRepr(Encoding.ASCII.GetBytes(l))) > 1000);
    }

    [Fact]
    public void Matches_cpython_byte_for_byte_on_a_corpus()
    {
        string[] corpus =
        [
            "{\"ltp\": 1418.4, \"ltt\": 1746171226000, \"symbol\": \"RELIANCE\", \"exchange\": \"NSE\", \"mode\": 1, \"timestamp\": 1746171226123}",
            "{\"ltp\":800.10,\"depth\":{\"buy\":[{\"price\":800.05,\"quantity\":10,\"orders\":1}],\"sell\":[]}}",
            "{\"n\": [1e-7, 1e22, 0.1, 100.0, 3.14159265358979, -1.5e-10, 2e16, 123456789.0]}",
            "{\"u\": \"caf\u00e9 \u20b9 \\ud83d\\ude00 \\u0001 \\\" \\\\ \\n\"}",
            "{\"dup\": 1, \"dup\": 2, \"other\": 3}",
            "[true, false, null, {}, [], \"\", 0, -0, 0.0, -0.0]",
        ];
        string expected = Python.Run("import sys,json\nfor line in sys.stdin.read().split('\\x1e'):\n    print(json.dumps(json.loads(line)))", string.Join('\x1e', corpus));
        var lines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < corpus.Length; i++)
        {
            var parsed = PyJsonReader.Parse(Encoding.UTF8.GetBytes(corpus[i]));
            Assert.Equal(lines[i], Encoding.ASCII.GetString(PyJsonWriter.Serialize(parsed)));
            if (i != 4) Assert.Equal(lines[i], Rewrite(corpus[i])); // the streaming rewrite does not collapse duplicate keys (Python dicts never publish them)
        }
    }

    [Fact]
    public void Parses_python_types_and_truthiness()
    {
        var dict = Assert.IsType<PyDict>(PyJsonReader.Parse("{\"a\": 1.0, \"b\": 1, \"c\": \"\", \"d\": [], \"e\": null, \"f\": 0}"u8));
        Assert.Equal("float", dict.Get("a")!.TypeName);
        Assert.Equal("int", dict.Get("b")!.TypeName);
        Assert.False(dict.Get("c")!.IsTruthy);
        Assert.False(dict.Get("d")!.IsTruthy);
        Assert.Equal("NoneType", dict.Get("e")!.TypeName);
        Assert.False(dict.Get("f")!.IsTruthy);
        Assert.Null(dict.Get("missing"));
        Assert.Equal("{'a': 1.0, 'b': 1, 'c': '', 'd': [], 'e': None, 'f': 0}", dict.Repr());
    }
}
