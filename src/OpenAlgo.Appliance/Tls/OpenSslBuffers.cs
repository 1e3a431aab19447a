using System.Net.Security;
using System.Runtime.InteropServices;

namespace OpenAlgo.Appliance.Tls;

/// <summary>
/// Sets OpenSSL's <c>SSL_MODE_RELEASE_BUFFERS</c> on a server connection once its handshake is done:
/// OpenSSL then frees a connection's record buffers (about 17 KB each way) when nothing is pending
/// instead of keeping them for its whole life, as nginx does. An idle market-data connection holds
/// no TLS buffer; a busy one allocates them per record batch (glibc serves those from its free lists).
/// .NET has no option for it, so the <c>SSL*</c> is taken from <see cref="SslStream"/>'s context
/// (on Linux that context is the SafeHandle of the <c>SSL*</c> itself, .NET 10) and the mode set through
/// the <c>libssl</c> .NET already loaded. If any of that is not as expected — another runtime, another
/// libssl — it does nothing and says so once (<see cref="Problem"/>).
/// </summary>
internal static unsafe partial class OpenSslBuffers
{
    private const int SslCtrlMode = 33;
    private const long SslModeReleaseBuffers = 0x10;

    private static readonly delegate* unmanaged<nint, int, long, nint, long> SslCtrl = Resolve(out s_problem);
    private static string? s_problem;

    private static long s_applied;

    /// <summary>Why buffers are not released (null: they are).</summary>
    public static string? Problem => s_problem;

    /// <summary>Connections the mode was set on since the process started.</summary>
    public static long Applied => Interlocked.Read(ref s_applied);

    // Reflection, not UnsafeAccessor: the field's type is internal, and native AOT does not support
    // UnsafeAccessorType (NotSupportedException). A constant name on typeof(SslStream) keeps the
    // field's metadata through trimming without annotations.
    private static readonly System.Reflection.FieldInfo? SecurityContextField =
        typeof(SslStream).GetField("_securityContext", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);

    /// <summary>
    /// Call after the handshake and before the connection's first read or write (an <c>SSL*</c> is not
    /// thread-safe; in Kestrel's connection pipeline right after <c>UseHttps</c> nobody else uses it yet).
    /// True when the mode was set.
    /// </summary>
    public static bool ReleaseWhenIdle(SslStream stream)
    {
        if (SslCtrl is null) return false;
        if (SecurityContextField is null)
        {
            s_problem ??= "SslStream has no _securityContext field (not the .NET 10 runtime this was written for)";
            return false;
        }
        object? context;
        try
        {
            context = SecurityContextField.GetValue(stream);
        }
        catch (Exception ex)
        {
            s_problem ??= $"SslStream's OpenSSL context cannot be read ({ex.GetType().Name})";
            return false;
        }
        if (context is not SafeHandle { IsInvalid: false, IsClosed: false } handle || handle.GetType().Name != "SafeSslHandle")
        {
            s_problem ??= $"SslStream's context is a {context?.GetType().Name ?? "null"}, not the SSL* handle of .NET 10 on Linux";
            return false;
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, 0);
            Interlocked.Increment(ref s_applied);
            return true;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>The connection's OpenSSL mode bits (SSL_get_mode), -1 when unavailable; for tests.</summary>
    internal static long Mode(SslStream stream)
    {
        if (SslCtrl is null || SecurityContextField?.GetValue(stream) is not SafeHandle { IsInvalid: false } handle) return -1;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, 0, 0); // adding no bits returns the mode
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    internal const long ReleaseBuffersBit = SslModeReleaseBuffers;

    private static int s_warned;

    /// <summary>As <see cref="ReleaseWhenIdle"/>, and says once (a warning) when it cannot.</summary>
    public static void ReleaseWhenIdle(SslStream stream, ILogger logger)
    {
        if (!ReleaseWhenIdle(stream) && Interlocked.Exchange(ref s_warned, 1) == 0)
        {
            Log.NotReleased(logger, Problem ?? "unknown");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1320, LogLevel.Warning, "TLS: idle connections keep OpenSSL's record buffers (about 34 KB each): {Problem}")]
        public static partial void NotReleased(ILogger logger, string problem);
    }

    private static delegate* unmanaged<nint, int, long, nint, long> Resolve(out string? problem)
    {
        problem = null;
        if (!OperatingSystem.IsLinux())
        {
            problem = "not Linux";
            return null;
        }
        // The names .NET probes, newest first; dlopen hands back the library .NET already loaded.
        foreach (string name in new[] { "libssl.so.3", "libssl.so.1.1", "libssl.so" })
        {
            if (NativeLibrary.TryLoad(name, out nint library) && NativeLibrary.TryGetExport(library, "SSL_ctrl", out nint export))
            {
                return (delegate* unmanaged<nint, int, long, nint, long>)export;
            }
        }
        problem = "no libssl with SSL_ctrl found";
        return null;
    }
}
