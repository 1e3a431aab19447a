using System.Globalization;

namespace OpenAlgo.Appliance.Hosting.Systemd;

/// <summary>What systemd handed this process: the notify socket and the watchdog period (half of <c>WATCHDOG_USEC</c>).</summary>
internal sealed record SystemdSettings(string? NotifySocket, TimeSpan? WatchdogInterval)
{
    public static SystemdSettings FromEnvironment() => From(Environment.GetEnvironmentVariable, Environment.ProcessId);

    public static SystemdSettings From(Func<string, string?> environment, int processId)
    {
        TimeSpan? interval = null;
        if (long.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long usec) && usec > 0)
        {
            // WATCHDOG_PID, when set, names the process meant to pet; a child must not.
            string? pid = environment("WATCHDOG_PID");
            if (string.IsNullOrEmpty(pid) || pid == processId.ToString(CultureInfo.InvariantCulture))
            {
                interval = TimeSpan.FromMicroseconds(usec / 2.0);
            }
        }
        return new SystemdSettings(environment("NOTIFY_SOCKET"), interval);
    }
}
