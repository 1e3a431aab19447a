using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace OpenAlgo.Appliance.Hosting.Logging;

/// <summary>
/// Serilog, configured in code (Serilog.Settings.Configuration is not AOT-safe): daily rolling
/// files in <c>LogsDirectory</c> (14 kept, 50 MB cap each), and the console — with sd-daemon
/// <c>&lt;N&gt;</c> priority prefixes when journald is reading it, so levels survive into the journal.
/// </summary>
internal static class SerilogSetup
{
    public static Serilog.Core.Logger Create(string logsDirectory, LoggingLevelSwitch level, bool console = true)
    {
        bool journal = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
        var configuration = new LoggerConfiguration()
            .MinimumLevel.ControlledBy(level)
            // Including Microsoft.Hosting.Lifetime ("Now listening on", "Hosting environment",
            // "Content root path"): the ready line says what was bound, the rest means nothing to
            // an operator of this binary.
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // The host logs a start-up failure with its whole stack trace before the caller can say
            // what it means (a busy port: ApplianceApp prints the key and the fix instead).
            .Filter.ByExcluding(e => IsEvent(e, "HostedServiceStartupFaulted"))
            .Enrich.FromLogContext()
            .Enrich.With(new JournalPriorityEnricher());
        if (console)
        {
            configuration = journal
                ? configuration.WriteTo.Console(outputTemplate: "<{JournalPriority}>{Message:lj}{NewLine}{Exception}", formatProvider: System.Globalization.CultureInfo.InvariantCulture)
                : configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}", formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        Directory.CreateDirectory(logsDirectory);
        configuration = configuration.WriteTo.File(
            Path.Combine(logsDirectory, "openalgo-appliance-.log"),
            rollingInterval: RollingInterval.Day,
            retainedFileCountLimit: 14,
            fileSizeLimitBytes: 50L * 1024 * 1024,
            rollOnFileSizeLimit: true,
            outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
            formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        return configuration.CreateLogger();
    }

    private static bool IsEvent(LogEvent e, string name) =>
        e.Properties.TryGetValue("EventId", out var id) && id is StructureValue structure
        && structure.Properties.Any(p => p.Name == "Name" && p.Value is ScalarValue { Value: string n } && n == name);

    private sealed class JournalPriorityEnricher : ILogEventEnricher
    {
        private static readonly LogEventProperty[] Priorities =
        [
            new("JournalPriority", new ScalarValue(7)), // Verbose
            new("JournalPriority", new ScalarValue(7)), // Debug
            new("JournalPriority", new ScalarValue(6)), // Information
            new("JournalPriority", new ScalarValue(4)), // Warning
            new("JournalPriority", new ScalarValue(3)), // Error
            new("JournalPriority", new ScalarValue(2)), // Fatal
        ];

        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
            => logEvent.AddPropertyIfAbsent(Priorities[(int)logEvent.Level]);
    }
}
