using System.Collections.Concurrent;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>Collects the appliance's log lines (formatted) so a test can assert that one was written.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _problems = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Entries at Error or Critical, and any entry that carried an exception (category, level, message, exception).</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    /// <summary>Pass as TestAppliance's services callback.</summary>
    public void Register(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(this);

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string line = $"{logLevel}: {formatter(state, exception)}";
            owner._lines.Enqueue(line);
            if (logLevel >= LogLevel.Error || exception is not null) owner._problems.Enqueue($"{category} {line}\n{exception}");
        }
    }
}
