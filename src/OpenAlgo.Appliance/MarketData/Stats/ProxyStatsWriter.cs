using System.Buffers;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.Observability;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Stats;

/// <summary>
/// OpenAlgo's <c>WS_PROXY_STATS_FILE</c> (spec §6.6), every 10 s, atomically, in its exact shape —
/// <c>utils/health_monitor.py</c> reads it and ignores a file older than 60 s, so OpenAlgo's health
/// page keeps working with the appliance in front.
/// </summary>
internal sealed partial class ProxyStatsWriter(string path, string site, MeterReader meters, TimeProvider time, ILogger<ProxyStatsWriter> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                Write();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.WriteFailed(logger, path, ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal void Write()
    {
        // The same meters /metrics shows: users by broker, subscribed (symbol, mode) keys, clients.
        var metrics = meters.Collect().Sites.GetValueOrDefault(site) ?? new SiteMetrics();
        var brokers = new List<PyValue>();
        foreach (var (broker, users) in metrics.UsersByBroker.OrderBy(b => b.Key, StringComparer.Ordinal))
        {
            if (broker.Length == 0) continue; // authenticated, but OpenAlgo named no broker
            for (long i = 0; i < users; i++) brokers.Add(new PyStr(broker));
        }
        var stats = new PyDict()
            .Set("timestamp", new PyFloatValue(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0))
            .Set("total_connections", metrics.Users)
            .Set("total_symbols", metrics.SubscribedKeys)
            .Set("clients_connected", metrics.Clients)
            .Set("brokers", new PyList(brokers));
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        AtomicFile.WriteAllBytes(path, PyJsonWriter.Serialize(stats), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static partial class Log
    {
        [LoggerMessage(1800, LogLevel.Warning, "Could not write the OpenAlgo stats file {Path}: {Reason}")]
        public static partial void WriteFailed(ILogger logger, string path, string reason);
    }
}
