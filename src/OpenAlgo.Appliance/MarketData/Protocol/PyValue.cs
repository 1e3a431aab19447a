using System.Globalization;
using System.Text;

namespace OpenAlgo.Appliance.MarketData.Protocol;

// A JSON value with Python's semantics, as OpenAlgo's proxy sees it after json.loads: Python
// truthiness, Python type names and str()/repr() forms all leak into its error messages
// ("Invalid action: None", "'list' object has no attribute 'get'"), so client messages are
// parsed into this small closed hierarchy rather than JsonElement. The types live in one file
// because they are one closed union.

internal abstract class PyValue
{
    /// <summary>Python's <c>type(x).__name__</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>Python's <c>bool(x)</c>.</summary>
    public abstract bool IsTruthy { get; }

    /// <summary>Appends Python's <c>repr(x)</c>.</summary>
    public abstract void AppendRepr(StringBuilder builder);

    /// <summary>Appends Python's <c>str(x)</c> (differs from repr only for strings).</summary>
    public virtual void AppendStr(StringBuilder builder) => AppendRepr(builder);

    public string Str()
    {
        var builder = new StringBuilder();
        AppendStr(builder);
        return builder.ToString();
    }

    public string Repr()
    {
        var builder = new StringBuilder();
        AppendRepr(builder);
        return builder.ToString();
    }
}

internal sealed class PyNull : PyValue
{
    public static readonly PyNull Instance = new();
    private PyNull() { }
    public override string TypeName => "NoneType";
    public override bool IsTruthy => false;
    public override void AppendRepr(StringBuilder builder) => builder.Append("None");
}

internal sealed class PyBool : PyValue
{
    public static readonly PyBool True = new(true);
    public static readonly PyBool False = new(false);
    private PyBool(bool value) => Value = value;
    public bool Value { get; }
    public static PyBool From(bool value) => value ? True : False;
    public override string TypeName => "bool";
    public override bool IsTruthy => Value;
    public override void AppendRepr(StringBuilder builder) => builder.Append(Value ? "True" : "False");
}

/// <summary>A Python int. JSON integers have arbitrary precision in Python; the canonical decimal text is kept.</summary>
internal sealed class PyInt : PyValue
{
    public PyInt(string canonical)
    {
        Canonical = canonical;
        IsSmall = long.TryParse(canonical, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value);
        Value = value;
    }

    public PyInt(long value) : this(value.ToString(CultureInfo.InvariantCulture)) { }

    public string Canonical { get; }
    public bool IsSmall { get; }
    public long Value { get; }
    public override string TypeName => "int";
    public override bool IsTruthy => Canonical != "0";
    public override void AppendRepr(StringBuilder builder) => builder.Append(Canonical);
}

internal sealed class PyFloatValue : PyValue
{
    public PyFloatValue(double value) => Value = value;
    public double Value { get; }
    public override string TypeName => "float";
    public override bool IsTruthy => Value != 0; // NaN is truthy in Python, and NaN != 0
    public override void AppendRepr(StringBuilder builder) => builder.Append(PyFloat.ToReprString(Value));
}

internal sealed class PyStr : PyValue
{
    public PyStr(string value) => Value = value;
    public string Value { get; }
    public override string TypeName => "str";
    public override bool IsTruthy => Value.Length > 0;
    public override void AppendStr(StringBuilder builder) => builder.Append(Value);
    public override void AppendRepr(StringBuilder builder) => PyRepr.AppendString(builder, Value);
}

internal sealed class PyList : PyValue
{
    public PyList() => Items = [];
    public PyList(List<PyValue> items) => Items = items;
    public List<PyValue> Items { get; }
    public override string TypeName => "list";
    public override bool IsTruthy => Items.Count > 0;

    public override void AppendRepr(StringBuilder builder)
    {
        builder.Append('[');
        for (int i = 0; i < Items.Count; i++)
        {
            if (i > 0) builder.Append(", ");
            Items[i].AppendRepr(builder);
        }
        builder.Append(']');
    }
}

/// <summary>
/// An insertion-ordered dict with Python's semantics: assigning an existing key replaces its value
/// and keeps its position, so a JSON object with a key twice reads as json.loads reads it (the last
/// value, at the first occurrence's place).
/// </summary>
internal sealed class PyDict : PyValue
{
    /// <summary>
    /// Up to this many keys a lookup scans the list (every message of OpenAlgo's protocol has fewer
    /// keys, and a scan of a handful of short strings beats hashing them); past it a hash index is
    /// kept. Without one a client's 40,000-key object cost 4.9 s of CPU to read (each key scanned
    /// every earlier one); with it, CPython's json.loads cost: linear. The index's string comparer
    /// switches to randomized hashing when it sees many collisions, so chosen keys cannot make it
    /// quadratic again.
    /// </summary>
    internal const int IndexThreshold = 8;

    private readonly List<KeyValuePair<string, PyValue>> _items = [];
    private Dictionary<string, int>? _index;

    /// <summary>
    /// Test hook: key comparisons and index lookups made by <see cref="Get"/> and <see cref="Set"/>
    /// on this thread, i.e. the work of finding keys (what was quadratic).
    /// </summary>
    [ThreadStatic] internal static long Probes;

    public IReadOnlyList<KeyValuePair<string, PyValue>> Items => _items;
    public int Count => _items.Count;
    public override string TypeName => "dict";
    public override bool IsTruthy => _items.Count > 0;

    /// <summary>Python's <c>d.get(key)</c>: null when the key is absent (not <see cref="PyNull"/>).</summary>
    public PyValue? Get(string key)
    {
        int i = IndexOf(key);
        return i < 0 ? null : _items[i].Value;
    }

    public PyDict Set(string key, PyValue value)
    {
        int i = IndexOf(key);
        if (i >= 0)
        {
            _items[i] = new(key, value);
            return this;
        }
        _items.Add(new(key, value));
        if (_index is not null)
        {
            _index.Add(key, _items.Count - 1);
        }
        else if (_items.Count > IndexThreshold)
        {
            _index = new Dictionary<string, int>(_items.Count * 2, StringComparer.Ordinal);
            for (int j = 0; j < _items.Count; j++) _index.Add(_items[j].Key, j);
        }
        return this;
    }

    private int IndexOf(string key)
    {
        if (_index is not null)
        {
            Probes++;
            return _index.TryGetValue(key, out int found) ? found : -1;
        }
        for (int i = 0; i < _items.Count; i++)
        {
            Probes++;
            if (_items[i].Key == key) return i;
        }
        return -1;
    }

    public PyDict Set(string key, string value) => Set(key, new PyStr(value));
    public PyDict Set(string key, long value) => Set(key, new PyInt(value));
    public PyDict Set(string key, bool value) => Set(key, PyBool.From(value));

    public override void AppendRepr(StringBuilder builder)
    {
        builder.Append('{');
        for (int i = 0; i < _items.Count; i++)
        {
            if (i > 0) builder.Append(", ");
            PyRepr.AppendString(builder, _items[i].Key);
            builder.Append(": ");
            _items[i].Value.AppendRepr(builder);
        }
        builder.Append('}');
    }
}
