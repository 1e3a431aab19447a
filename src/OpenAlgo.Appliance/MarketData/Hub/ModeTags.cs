namespace OpenAlgo.Appliance.MarketData.Hub;

/// <summary>
/// OpenAlgo's fan-out rule (§5.1): a tick of mode M reaches a client holding any mode m ≤ M, once,
/// tagged with the highest such m. Precomputed for every mode set and tick mode.
/// </summary>
internal static class ModeTags
{
    public const byte Ltp = 1;
    public const byte Quote = 2;
    public const byte Depth = 3;

    private static readonly byte[] Table = Build();

    public static byte Bit(int mode) => (byte)(1 << (mode - 1));

    /// <summary>The mode to tag a tick of <paramref name="tickMode"/> with for a client holding <paramref name="modes"/>; 0 = not delivered.</summary>
    public static byte TagFor(byte modes, int tickMode) => Table[(modes & 7) * 4 + tickMode];

    /// <summary>The highest mode in the set, 0 when empty.</summary>
    public static int Highest(byte modes) => (modes & 4) != 0 ? 3 : (modes & 2) != 0 ? 2 : (modes & 1) != 0 ? 1 : 0;

    public static string Label(int mode) => mode switch { 1 => "LTP", 2 => "Quote", 3 => "Depth", _ => "Unknown" };

    private static byte[] Build()
    {
        var table = new byte[8 * 4];
        for (int modes = 0; modes < 8; modes++)
        {
            for (int tick = 1; tick <= 3; tick++)
            {
                for (int m = tick; m >= 1; m--)
                {
                    if ((modes & (1 << (m - 1))) != 0)
                    {
                        table[modes * 4 + tick] = (byte)m;
                        break;
                    }
                }
            }
        }
        return table;
    }
}
