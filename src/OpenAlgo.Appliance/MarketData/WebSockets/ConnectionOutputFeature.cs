using System.IO.Pipelines;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace OpenAlgo.Appliance.MarketData.WebSockets;

/// <summary>
/// The connection's own output (the TLS pipe on the HTTPS listener, the socket's pipe on an internal one), kept
/// by a connection middleware so that an upgraded WebSocket can write its frames there directly.
/// </summary>
/// <remarks>
/// After <c>UpgradeAsync</c> Kestrel writes nothing more on an HTTP/1.1 connection until the request ends, so
/// the send loop is the output's only writer. Writing through the upgrade stream instead adds, per flush, a
/// <see cref="StreamPipeWriter"/> copy, Kestrel's response stream, its output producer and its lock; the
/// measurement that justified skipping them is in docs/benchmarks.md ("Step 3: frames go into the connection's own output").
/// The send loop never completes this writer: Kestrel does when the request ends.
/// </remarks>
internal sealed class ConnectionOutputFeature(PipeWriter output)
{
    private static long s_taken;

    /// <summary>How many WebSockets wrote to their connection's output (for the test that pins the path).</summary>
    public static long Taken => Interlocked.Read(ref s_taken);

    private PipeWriter Output { get; } = output;

    /// <summary>The connection's output, for the one WebSocket upgraded on it.</summary>
    public PipeWriter Take()
    {
        Interlocked.Increment(ref s_taken);
        return Output;
    }

}

internal static class ConnectionOutputListenOptionsExtensions
{
    /// <summary>
    /// Keeps each connection's transport output, as the connection middlewares registered before this one left
    /// it (on HTTPS: the TLS pipe behind <c>FullRecordWriter</c>), for a WebSocket upgraded on it.
    /// </summary>
    public static ListenOptions UseConnectionOutput(this ListenOptions listen)
    {
        listen.Use(next => connection =>
        {
            connection.Features.Set(new ConnectionOutputFeature(connection.Transport.Output));
            return next(connection);
        });
        return listen;
    }
}
