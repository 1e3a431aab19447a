namespace OpenAlgo.Appliance.Infrastructure;

/// <summary>
/// The directories systemd makes for a unit (<c>StateDirectory=</c>, <c>LogsDirectory=</c>,
/// <c>RuntimeDirectory=</c>, <c>ConfigurationDirectory=</c>) arrive as <c>$STATE_DIRECTORY</c> and
/// friends: absolute paths, colon-separated when the unit names several. The first is ours.
/// </summary>
internal static class SystemdDirectory
{
    /// <summary>The first path in <paramref name="variable"/>, or null when it is unset or empty.</summary>
    public static string? Get(string variable, Func<string, string?>? environment = null)
    {
        string? value = (environment ?? Environment.GetEnvironmentVariable)(variable);
        return value?.Split(':')[0] is { Length: > 0 } first ? first : null;
    }
}
