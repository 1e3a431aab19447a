using System.Text.Json;

namespace OpenAlgo.Appliance.Tests.TestSupport;

/// <summary>
/// The real socket.io browser client, as OpenAlgo's React UI bundles it (<c>socket.io-client</c>
/// 4.x): <c>npm pack socket.io-client@4</c>, then <c>package/dist/socket.io.min.js</c> from the
/// tarball. Fetched once per machine into <c>$XDG_CACHE_HOME</c> (else <c>~/.cache</c>)
/// <c>/openalgo-appliance-tests/</c>; concurrent first fetches each work in their own directory
/// and the first rename wins.
/// </summary>
internal static class SocketIoBrowserClient
{
    private const string Package = "socket.io-client@4";
    private static readonly SemaphoreSlim Once = new(1, 1);
    private static (string Script, string Version)? _cached;

    /// <summary>The minified client's text and the package version it came from.</summary>
    public static async Task<(string Script, string Version)> GetAsync()
    {
        await Once.WaitAsync();
        try
        {
            return _cached ??= await LoadAsync();
        }
        finally
        {
            Once.Release();
        }
    }

    private static async Task<(string Script, string Version)> LoadAsync()
    {
        string cacheRoot = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string home = Path.Combine(cacheRoot, "openalgo-appliance-tests");
        string final = Path.Combine(home, "socket.io-client-4");
        if (!File.Exists(Path.Combine(final, "package", "dist", "socket.io.min.js")))
        {
            Directory.CreateDirectory(home);
            string work = Path.Combine(home, ".fetch-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(work);
            try
            {
                var (exit, output) = await Task.Run(() => Processes.Run("npm", work, "pack", Package, "--silent"));
                string? tarball = Directory.EnumerateFiles(work, "socket.io-client-*.tgz").FirstOrDefault();
                if (exit != 0 || tarball is null) throw new InvalidOperationException($"npm pack {Package} failed ({exit}): {output}");
                (exit, output) = Processes.Run("tar", work, "-xzf", tarball, "package/dist/socket.io.min.js", "package/package.json");
                if (exit != 0) throw new InvalidOperationException($"tar failed ({exit}): {output}");
                try
                {
                    Directory.Move(work, final);
                }
                catch (IOException) when (File.Exists(Path.Combine(final, "package", "dist", "socket.io.min.js")))
                {
                    // Another test process cached it first.
                }
            }
            finally
            {
                if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            }
        }
        string script = await File.ReadAllTextAsync(Path.Combine(final, "package", "dist", "socket.io.min.js"));
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(final, "package", "package.json")));
        return (script, manifest.RootElement.GetProperty("version").GetString()!);
    }
}
