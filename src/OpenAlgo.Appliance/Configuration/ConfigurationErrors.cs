namespace OpenAlgo.Appliance.Configuration;

/// <summary>Thrown when the configuration is unusable; each line names the key and the fix.</summary>
internal sealed class ConfigurationErrorsException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
