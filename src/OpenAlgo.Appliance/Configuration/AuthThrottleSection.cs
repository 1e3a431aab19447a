namespace OpenAlgo.Appliance.Configuration;

/// <summary>
/// <c>Security:AuthThrottle:*</c> (per site): failed <c>authenticate</c> calls from one address get
/// their refusal later and later. A valid key is never delayed. See <see cref="Security.AuthThrottle"/>.
/// </summary>
internal sealed class AuthThrottleSection
{
    public bool Enabled { get; set; } = true;

    /// <summary>Failures from one address answered at once (a mistyped key, an SDK retrying).</summary>
    public int FreeFailures { get; set; } = 5;

    /// <summary>The delay of the first refusal past the free ones; it doubles with each further failure.</summary>
    public double InitialDelaySeconds { get; set; } = 1;

    /// <summary>The longest delay of one refusal.</summary>
    public double MaxDelaySeconds { get; set; } = 10;

    /// <summary>An address with no failure for this long starts again from zero.</summary>
    public double ForgetAfterSeconds { get; set; } = 900;
}
