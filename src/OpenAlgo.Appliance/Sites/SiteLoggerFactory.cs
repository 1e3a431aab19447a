using System.Collections;

namespace OpenAlgo.Appliance.Sites;

/// <summary>
/// The loggers of one named site: every line starts with <c>[site]</c> and carries a structured
/// <c>Site</c> property, so the journal and the log files say which OpenAlgo instance spoke. The
/// implicit site of a configuration without Sites logs exactly as before (no prefix).
/// </summary>
internal sealed class SiteLoggerFactory(ILoggerFactory inner, string? site) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return site is null ? logger : new SiteLogger(logger, site);
    }

    /// <summary>Providers belong to the process's factory.</summary>
    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The process's factory outlives every site: not disposed here.</summary>
    public void Dispose()
    {
    }

    private sealed class SiteLogger(ILogger inner, string site) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            // Not generic over TState: a SiteState<TState> handed to ILogger.Log<…> would be a generic
            // cycle (a logger of loggers) that native AOT's compiler must not be asked to resolve.
            var wrapped = new SiteState(site, $"[{site}] {formatter(state, exception)}", state as IEnumerable<KeyValuePair<string, object?>>, state);
            inner.Log(logLevel, eventId, wrapped, exception, static (s, _) => s.Message);
        }
    }

    /// <summary>
    /// The original state's properties with a <c>Site</c> property and the template prefixed with
    /// <c>[{Site}] </c> (Serilog builds its event from <c>{OriginalFormat}</c> and the properties);
    /// the message already formatted for providers that only print.
    /// </summary>
    private sealed class SiteState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private const string OriginalFormat = "{OriginalFormat}";
        private readonly KeyValuePair<string, object?>[] _properties;

        public SiteState(string site, string message, IEnumerable<KeyValuePair<string, object?>>? structure, object? state)
        {
            Message = message;
            var properties = new List<KeyValuePair<string, object?>>();
            string? template = null;
            if (structure is not null)
            {
                foreach (var property in structure)
                {
                    if (property.Key == OriginalFormat) template = property.Value as string;
                    else properties.Add(property);
                }
            }
            properties.Add(new("Site", site));
            // A plain-text state is no template: its braces are text.
            template ??= (state?.ToString() ?? "").Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
            properties.Add(new(OriginalFormat, "[{Site}] " + template));
            _properties = [.. properties];
        }

        public string Message { get; }

        public int Count => _properties.Length;
        public KeyValuePair<string, object?> this[int index] => _properties[index];
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_properties).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }
}
