namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>The input is not JSON as Python's <c>json.loads</c> understands it.</summary>
internal class PyJsonException(string message) : Exception(message);

/// <summary>
/// Nesting deeper than <see cref="PyJsonReader.MaxDepth"/>. CPython's scanner raises RecursionError
/// here (not a JSONDecodeError), so OpenAlgo answers <c>SERVER_ERROR</c> with its text, which this
/// message reproduces: "maximum recursion depth exceeded while decoding a JSON array from a unicode
/// string" (or "object": the container being entered).
/// </summary>
internal sealed class PyJsonDepthException(bool isObject)
    : PyJsonException($"maximum recursion depth exceeded while decoding a JSON {(isObject ? "object" : "array")} from a unicode string");

/// <summary>An object with more keys than the caller allows (<c>Limits:MaxKeysPerObject</c>); OpenAlgo has no such bound.</summary>
internal sealed class PyJsonKeyLimitException(int limit) : PyJsonException($"more than {limit} keys in one object")
{
    public int Limit { get; } = limit;
}

/// <summary>An array with more items than the caller allows (<c>Limits:MaxSymbolsPerMessage</c>): refused at the first item over it.</summary>
internal sealed class PyJsonItemLimitException(int limit) : PyJsonException($"more than {limit} items in one array")
{
    public int Limit { get; } = limit;
}
