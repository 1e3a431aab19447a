using System.Globalization;
using System.Text;
using System.Threading.Channels;
using OpenAlgo.Appliance.Configuration;
using Serilog;
using Serilog.Events;
using ILogger = Microsoft.Extensions.Logging.ILogger;
using Serilog.Parsing;

namespace OpenAlgo.Appliance.Observability.Trace;

/// <summary>
/// <c>Logging:MessageTrace</c>: the messages between clients and the appliance (and, with
/// <c>MarketData:Source=OpenAlgo</c>, between the appliance and OpenAlgo's proxy), for debugging one
/// client. One per process; each site reads it through its <see cref="SiteMessageTrace"/>.
/// <para>
/// Off, it costs one volatile read (<see cref="Settings"/>) per message and per tick — nothing per
/// recipient. On, lines are formatted on the thread that saw the message, checked against the byte
/// budget of the current minute, and queued; one background loop writes them, so a slow disk never
/// holds up a connection or the feed. What the budget (or a full queue) turns away is counted and
/// said in the trace once a minute.
/// </para>
/// <para>
/// Its own Serilog file, <c>LogsDirectory/message-trace-YYYYMMDD.log</c>, not the service log: a
/// trace is bulky, short-lived and full of message content (symbols, order updates). Kept apart, the
/// service log and the journal stay readable while it runs, it can be handed to whoever helps debug
/// without the rest, and it has its own retention (daily files and at 100 MB, 10 kept: at most 1 GB).
/// </para>
/// </summary>
internal sealed partial class MessageTrace : IHostedService, IAsyncDisposable
{
    public const string FilePrefix = "message-trace-";

    /// <summary>Bytes a line costs besides its text: "yyyy-MM-dd HH:mm:ss.fff +hh:mm " and the newline.</summary>
    private const int LineOverhead = 32;
    private const int QueueCapacity = 10_000;
    private static readonly MessageTemplate LineTemplate = new MessageTemplateParser().Parse("{Line:l}");

    private readonly string _directory;
    private readonly MessageTraceSection _initial;
    private readonly TimeProvider _time;
    private readonly ILogger<MessageTrace> _log;
    private readonly Channel<Entry> _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _gate = new();
    private volatile TraceSettings? _settings;
    private Task _writing = Task.CompletedTask;
    private ITimer? _reportTimer;
    private bool _writeFailed;

    // The budget of the current minute (under _gate).
    private long _minute;
    private long _usedBytes;
    private long _overBudgetLines;
    private long _overBudgetBytes;
    private long _queueFullLines;

    public MessageTrace(string logsDirectory, MessageTraceSection initial, TimeProvider time, ILogger<MessageTrace> log)
    {
        _directory = logsDirectory;
        _initial = initial;
        _time = time;
        _log = log;
    }

    /// <summary>Null while the trace is off: the one read the hot paths pay.</summary>
    public TraceSettings? Settings => _settings;

    /// <summary>Where the trace is written (a file per day: message-trace-YYYYMMDD.log).</summary>
    public string PathPattern => Path.Combine(_directory, FilePrefix + "YYYYMMDD.log");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writing = Task.Run(WriteLoopAsync, CancellationToken.None);
        Apply(_initial);
        return Task.CompletedTask;
    }

    /// <summary>Turns the trace on, off, or to other filters (start, and every SIGHUP).</summary>
    public void Apply(MessageTraceSection section)
    {
        var fresh = section.Enabled ? new TraceSettings(section) : null;
        TraceSettings? previous;
        lock (_gate)
        {
            previous = _settings;
            if (previous is null && fresh is null) return;
            if (fresh is not null)
            {
                Enqueue(previous is null ? $"message trace on: {fresh.Describe()}" : $"message trace changed: {fresh.Describe()}");
                _reportTimer ??= _time.CreateTimer(_ => ReportIfMinutePassed(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
            else
            {
                string dropped = DroppedSummary();
                Enqueue("message trace off" + (dropped.Length > 0 ? $"; in the last minute {dropped}" : ""));
                _queue.Writer.TryWrite(Entry.Close);
                _reportTimer?.Dispose();
                _reportTimer = null;
            }
            _settings = fresh;
        }
        if (fresh is not null) Log.On(_log, fresh.Describe(), PathPattern);
        else Log.Off(_log);
    }

    /// <summary>Writes one line, within the minute's byte budget; null settings (off meanwhile) writes nothing.</summary>
    public void Write(TraceSettings settings, string line)
    {
        long bytes = Encoding.UTF8.GetByteCount(line) + LineOverhead;
        lock (_gate)
        {
            if (!ReferenceEquals(settings, _settings)) return; // turned off or changed while the line was made
            RollMinute();
            if (_usedBytes + bytes > settings.BytesPerMinute)
            {
                _overBudgetLines++;
                _overBudgetBytes += bytes;
                return;
            }
            if (!_queue.Writer.TryWrite(new Entry(_time.GetLocalNow(), line)))
            {
                _queueFullLines++;
                return;
            }
            _usedBytes += bytes;
        }
    }

    private void ReportIfMinutePassed()
    {
        lock (_gate)
        {
            if (_settings is not null) RollMinute();
        }
    }

    /// <summary>At a new minute: say what the last one turned away (once), and start a fresh budget. Under <c>_gate</c>.</summary>
    private void RollMinute()
    {
        long minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        if (minute == _minute) return;
        string dropped = DroppedSummary();
        if (dropped.Length > 0)
        {
            var start = DateTimeOffset.FromUnixTimeSeconds(_minute * 60).ToOffset(_time.GetLocalNow().Offset);
            Enqueue($"message trace: in the minute from {start:HH:mm} {dropped}");
        }
        _minute = minute;
        _usedBytes = 0;
        _overBudgetLines = _overBudgetBytes = _queueFullLines = 0;
    }

    private string DroppedSummary()
    {
        var parts = new List<string>(2);
        if (_overBudgetLines > 0) parts.Add($"{_overBudgetLines} messages ({_overBudgetBytes} bytes) were not written: over Logging:MessageTrace:BytesPerMinute ({_settings?.BytesPerMinute})");
        if (_queueFullLines > 0) parts.Add($"{_queueFullLines} messages were not written: the disk fell behind");
        return string.Join("; ", parts);
    }

    /// <summary>The trace's own lines (on, off, what was dropped): outside the budget. Under <c>_gate</c>.</summary>
    private void Enqueue(string line) => _queue.Writer.TryWrite(new Entry(_time.GetLocalNow(), line));

    private async Task WriteLoopAsync()
    {
        Serilog.Core.Logger? file = null;
        try
        {
            await foreach (var entry in _queue.Reader.ReadAllAsync())
            {
                if (entry.Line is null)
                {
                    file?.Dispose();
                    file = null;
                    continue;
                }
                try
                {
                    file ??= OpenFile();
                    file.Write(new LogEvent(entry.Time, LogEventLevel.Information, null, LineTemplate, [new LogEventProperty("Line", new ScalarValue(entry.Line))]));
                    _writeFailed = false;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Once per failure spell, not per line.
                    if (!_writeFailed) Log.WriteFailed(_log, PathPattern, ex.Message);
                    _writeFailed = true;
                }
            }
        }
        finally
        {
            file?.Dispose();
        }
    }

    private Serilog.Core.Logger OpenFile()
    {
        Directory.CreateDirectory(_directory);
        return new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .WriteTo.File(
                Path.Combine(_directory, FilePrefix + ".log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 10,
                fileSizeLimitBytes: 100L * 1024 * 1024,
                rollOnFileSizeLimit: true,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Message:l}{NewLine}",
                formatProvider: CultureInfo.InvariantCulture)
            .CreateLogger();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _reportTimer?.Dispose();
            _reportTimer = null;
            if (_settings is not null) Enqueue("message trace stopped with the service");
            _settings = null;
            _queue.Writer.TryComplete();
        }
        // The last lines are worth a moment, even when the host's shutdown time is already up (a slow
        // client's close took it): never an exception that would turn a clean stop into exit 1.
        await Task.WhenAny(_writing, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>A line with its time, or (Line null) the signal to close the file.</summary>
    private readonly record struct Entry(DateTimeOffset Time, string? Line)
    {
        public static readonly Entry Close = new(default, null);
    }

    private static partial class Log
    {
        [LoggerMessage(2300, LogLevel.Information, "Message trace on ({Settings}): writing {Path}")]
        public static partial void On(ILogger logger, string settings, string path);

        [LoggerMessage(2301, LogLevel.Information, "Message trace off")]
        public static partial void Off(ILogger logger);

        [LoggerMessage(2302, LogLevel.Warning, "Message trace: cannot write {Path}: {Problem}")]
        public static partial void WriteFailed(ILogger logger, string path, string problem);
    }
}
