namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>The input is not JSON as Python's <c>json.loads</c> understands it.</summary>
internal sealed class PyJsonException(string message) : Exception(message);
