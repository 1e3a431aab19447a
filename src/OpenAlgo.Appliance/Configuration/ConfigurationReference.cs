namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// Where an error message sends the operator for the list of keys: the copy on this machine. A
/// package install has it in /usr/share/doc (a path in the source tree means nothing there); a
/// release tarball has docs/ beside the binary; otherwise the source tree's docs/configuration.md.
/// </summary>
internal static class ConfigurationReference
{
    public const string PackagePath = "/usr/share/doc/openalgo-appliance/configuration.md.gz";

    private static string? s_where;

    /// <summary>For example <c>/usr/share/doc/openalgo-appliance/configuration.md.gz</c>.</summary>
    public static string Where => s_where ??= Find();

    private static string Find()
    {
        if (File.Exists(PackagePath)) return PackagePath;
        string beside = Path.Combine(AppContext.BaseDirectory, "docs", "configuration.md");
        if (File.Exists(beside)) return beside;
        return "docs/configuration.md";
    }
}
