using System.Text;
using OpenAlgo.Appliance.MarketData.Protocol;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Protocol;

/// <summary>
/// PyDict and the reader's bounds: reading an object costs work linear in its keys (a client's
/// 40,000-key object once cost 4.9 s of CPU), with json.loads' semantics for repeated keys, and the
/// nesting and key limits refuse early.
/// </summary>
public sealed class PyDictTests
{
    private static byte[] ObjectWithKeys(int keys)
    {
        var sb = new StringBuilder("{");
        for (int i = 0; i < keys; i++) sb.Append(i > 0 ? ", " : "").Append("\"k").Append(i).Append("\": ").Append(i);
        return Encoding.UTF8.GetBytes(sb.Append('}').ToString());
    }

    private static long ProbesToParse(byte[] json, int lookups = 0)
    {
        PyDict.Probes = 0;
        var dict = Assert.IsType<PyDict>(PyJsonReader.Parse(json));
        for (int i = 0; i < lookups; i++) Assert.NotNull(dict.Get("k" + i));
        return PyDict.Probes;
    }

    [Fact]
    public void Reading_an_object_costs_work_linear_in_its_keys()
    {
        // Operation counts, not time: 8x the keys must cost about 8x the key lookups. A scan of every
        // earlier key per key (the old reader) costs 64x; the bound 12x leaves room for the index build.
        long small = ProbesToParse(ObjectWithKeys(2_500), lookups: 2_500);
        long large = ProbesToParse(ObjectWithKeys(20_000), lookups: 20_000);
        Assert.True(large < 12 * small, $"2,500 keys: {small} probes; 20,000 keys: {large} probes ({(double)large / small:0.0}x)");
        // And in absolute terms: a few probes per key (set + get), not thousands.
        Assert.True(large <= 3 * 20_000 + 64, $"{large} probes for 20,000 keys");
    }

    [Fact]
    public void Repeated_keys_read_as_json_loads_reads_them()
    {
        // Last value wins, at the first occurrence's position, below and above the index threshold,
        // a key repeated across the moment the index is built, and in nested objects.
        string[] corpus =
        [
            "{\"a\": 1, \"b\": 2, \"a\": 3}",
            "{\"a\": 1, \"a\": 2, \"a\": 3, \"b\": 4, \"a\": 5}",
            "{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, \"k7\": 7, \"k0\": \"again\", \"k8\": 8, \"k3\": \"late\"}",
            "{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k8\": [1], \"k0\": {\"x\": 1, \"x\": 2}, \"k10\": 10, \"k9\": null}",
            "{\"outer\": {\"i0\": 0, \"i1\": 1, \"i2\": 2, \"i3\": 3, \"i4\": 4, \"i5\": 5, \"i6\": 6, \"i7\": 7, \"i8\": 8, \"i2\": \"two\"}, \"outer\": {\"z\": 1, \"y\": 2, \"z\": 3}}",
            Encoding.UTF8.GetString(ObjectWithKeys(300)).TrimEnd('}') + ", \"k7\": \"seven\", \"k299\": \"last\", \"k150\": -1}",
            "{\"\\u00e9\": 1, \"\u00e9\": 2, \"e\\u0301\": 3}",
        ];
        string expected = Python.Run("import sys,json\nfor line in sys.stdin.read().split('\\x1e'):\n    print(json.dumps(json.loads(line)))", string.Join('\x1e', corpus));
        var lines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(corpus.Length, lines.Length);
        for (int i = 0; i < corpus.Length; i++)
        {
            var parsed = PyJsonReader.Parse(Encoding.UTF8.GetBytes(corpus[i]));
            Assert.Equal(lines[i], Encoding.ASCII.GetString(PyJsonWriter.Serialize(parsed)));
        }
        var dict = Assert.IsType<PyDict>(PyJsonReader.Parse(Encoding.UTF8.GetBytes(corpus[3])));
        Assert.Equal("{'x': 2}", dict.Get("k0")!.Repr());
        Assert.Equal(11, dict.Count);
    }

    [Fact]
    public void Set_after_the_index_exists_keeps_python_order_and_values()
    {
        var dict = new PyDict();
        for (int i = 0; i < 20; i++) dict.Set("k" + i, i);
        dict.Set("k3", "three").Set("k20", 20).Set("k0", true);
        Assert.Equal(21, dict.Count);
        Assert.Equal(["k0", "k1", "k2", "k3"], dict.Items.Take(4).Select(kv => kv.Key));
        Assert.Equal("'three'", dict.Get("k3")!.Repr());
        Assert.Equal("True", dict.Get("k0")!.Repr());
        Assert.Equal("k20", dict.Items[^1].Key);
        Assert.Null(dict.Get("k21"));
    }

    [Fact]
    public void Nesting_past_the_limit_fails_with_cpythons_recursion_error_text()
    {
        int deep = PyJsonReader.MaxDepth + 1;
        string arrays = new string('[', deep) + new string(']', deep);
        string objects = string.Concat(Enumerable.Repeat("{\"a\": ", deep)) + "1" + new string('}', deep);
        // CPython's own words for both (its limit is about 1000; ours is lower, the text the same).
        string python = Python.Run(
            "import json\nfor s in ('['*5000, '{\"a\": '*5000):\n    try: json.loads(s)\n    except RecursionError as e: print(e)");
        var texts = python.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(texts[0], Assert.Throws<PyJsonDepthException>(() => PyJsonReader.Parse(Encoding.UTF8.GetBytes(arrays))).Message);
        Assert.Equal(texts[1], Assert.Throws<PyJsonDepthException>(() => PyJsonReader.Parse(Encoding.UTF8.GetBytes(objects))).Message);

        int ok = PyJsonReader.MaxDepth;
        Assert.IsType<PyList>(PyJsonReader.Parse(Encoding.UTF8.GetBytes(new string('[', ok) + new string(']', ok))));
    }

    [Fact]
    public void Key_limit_counts_each_object_and_stops_at_the_first_key_over_it()
    {
        Assert.IsType<PyDict>(PyJsonReader.Parse(ObjectWithKeys(16), maxKeysPerObject: 16));
        var tooMany = Assert.Throws<PyJsonKeyLimitException>(() => PyJsonReader.Parse(ObjectWithKeys(17), maxKeysPerObject: 16));
        Assert.Equal(16, tooMany.Limit);
        // Repeated keys count too: the bound is on the work, checked before the object is read to its end,
        // even when the rest would not be JSON at all.
        Assert.Throws<PyJsonKeyLimitException>(() => PyJsonReader.Parse("{\"a\": 1, \"a\": 2, \"a\": 3, oops"u8, maxKeysPerObject: 2));
        // Per object, not per message.
        var nested = "{\"a\": {\"x\": 1, \"y\": 2}, \"b\": {\"x\": 1, \"y\": 2}}"u8;
        Assert.IsType<PyDict>(PyJsonReader.Parse(nested, maxKeysPerObject: 2));
    }

    [Fact]
    public void Item_limit_counts_each_array_and_stops_at_the_first_item_over_it()
    {
        Assert.IsType<PyList>(PyJsonReader.Parse("[1, 2, 3]"u8, maxItemsPerArray: 3));
        Assert.Equal(3, Assert.Throws<PyJsonItemLimitException>(() => PyJsonReader.Parse("[1, 2, 3, 4]"u8, maxItemsPerArray: 3)).Limit);
        // Refused before the rest is read: what follows the fourth item's start need not even be JSON.
        Assert.Throws<PyJsonItemLimitException>(() => PyJsonReader.Parse("{\"symbols\": [{}, {}, {}, oops"u8, maxItemsPerArray: 3));
        Assert.IsType<PyDict>(PyJsonReader.Parse("{\"a\": [1, 2, 3], \"b\": [[1, 2, 3], [4, 5, 6]]}"u8, maxItemsPerArray: 3));
    }

    [Fact]
    public void Shared_small_ints_and_keys_read_as_fresh_ones_would()
    {
        string json = "{\"symbol\": 0, \"exchange\": 255, \"mode\": 256, \"depth\": -1, \"x\": -0, \"y\": 007}";
        Assert.Throws<PyJsonException>(() => PyJsonReader.Parse(Encoding.UTF8.GetBytes(json)));
        json = "{\"symbol\": 0, \"exchange\": 255, \"mode\": 256, \"depth\": -1, \"x\": -0, \"symbols\": [1, 10, 100]}";
        string expected = Python.Run("import sys,json\nprint(json.dumps(json.loads(sys.stdin.read())))", json).TrimEnd('\n');
        var dict = Assert.IsType<PyDict>(PyJsonReader.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(expected, Encoding.ASCII.GetString(PyJsonWriter.Serialize(dict)));
        Assert.Same(dict.Items[0].Key, "symbol");
        Assert.True(((PyInt)dict.Get("exchange")!).IsSmall);
        Assert.Equal(255, ((PyInt)dict.Get("exchange")!).Value);
        Assert.Equal(256, ((PyInt)dict.Get("mode")!).Value);
        Assert.False(dict.Get("x")!.IsTruthy);
    }
}
