using System.Net.Sockets;

namespace OpenAlgo.Appliance.Hosting;

/// <summary>A listener's <c>unix:/path</c>: its directory made, a socket file left by a previous run removed (nothing answers on it).</summary>
internal static class UnixSocket
{
    public static string Prepare(string path)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } directory) Directory.CreateDirectory(directory);
        // A socket file has length 0; a regular file with content is never touched.
        if (File.Exists(path) && new FileInfo(path).Length == 0)
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException)
            {
                File.Delete(path); // stale: its server is gone
            }
        }
        return path;
    }
}
