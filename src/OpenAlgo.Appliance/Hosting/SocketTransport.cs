using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>
/// Kestrel's socket transport as every listener of the appliance uses it (the public ones and each
/// site's internal listener).
/// </summary>
internal static class SocketTransport
{
    /// <summary>
    /// Inline scheduling: a flush of a connection's output runs the socket send on the flushing thread
    /// instead of queueing it to Kestrel's I/O queue, and received data is handed to the connection
    /// on the thread that received it. Each hop was a thread-pool dispatch and usually a sleeping
    /// worker to wake: per market-data flush one for the send loop and one for the send (measured at
    /// <c>a9d9570</c>: Kestrel's <c>DoSend</c> on the I/O queue was a quarter of the thread pool's
    /// time). Socket completions still arrive on thread-pool threads (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS
    /// is not set), so application code never runs on the epoll thread; nothing in the appliance blocks
    /// a connection's thread (Argon2 and large client messages have threads of their own).
    /// </summary>
    public static void Configure(SocketTransportOptions options)
    {
        options.UnsafePreferInlineScheduling = true;
    }
}
