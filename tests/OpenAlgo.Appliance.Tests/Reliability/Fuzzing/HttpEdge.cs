using System.Text;

namespace OpenAlgo.Appliance.Fuzzing;

/// <summary>
/// Raw HTTP/1.1 at the edge: one request on its own connection, read until a whole answer, a close
/// or a timeout; and a mutator that breaks a request head the ways clients and scanners do. Shared
/// by the CI form (HttpEdgeTests) and the long form (openalgo-bench fuzz).
/// </summary>
internal static class HttpEdge
{
    /// <summary>Sends one raw request on a new connection; the answer's status (0 when cut without one, -1 when neither within the timeout, 30 s by default) and whether the server then closed.</summary>
    public static async Task<(int Status, bool Closed)> ExchangeAsync(Func<Task<Stream>> connect, string request, Encoding? encoding = null, TimeSpan? timeout = null)
    {
        await using var stream = await connect();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await stream.WriteAsync((encoding ?? Encoding.UTF8).GetBytes(request), cts.Token);
            await stream.FlushAsync(cts.Token);
        }
        catch (IOException)
        {
            // Refused while still writing (a flood of headers): the answer may still be there to read.
        }
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int status = 0;
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                received.Write(buffer, 0, n);
                string text = Encoding.Latin1.GetString(received.ToArray());
                if (status == 0 && text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && text.Length >= 12) status = int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
                if (status == 101) return (101, false);
                // A whole answer on a connection kept alive: done (waiting for a close would take Http:KeepAliveTimeoutSeconds).
                int headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (status != 0 && headEnd > 0 && !text[..headEnd].Contains("\r\nConnection: close", StringComparison.OrdinalIgnoreCase)
                    && text.Length - headEnd - 4 >= ContentLength(text[..headEnd]))
                {
                    return (status, false);
                }
            }
            return (status, true);
        }
        catch (OperationCanceledException)
        {
            return (status == 0 ? -1 : status, false);
        }
        catch (IOException)
        {
            return (status, true);
        }
    }

    private static int ContentLength(string head)
    {
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) return int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>Breaks a request head: deleted, doubled or swapped lines, stray bytes, cut short, folded headers, lowercase, spaces.</summary>
    public static string Mutate(Random random, string request)
    {
        var lines = request.Split("\r\n").ToList();
        int rounds = random.Next(1, 4);
        for (int r = 0; r < rounds; r++)
        {
            int at = random.Next(Math.Max(1, lines.Count - 2));
            switch (random.Next(10))
            {
                case 0: lines.RemoveAt(at); break;
                case 1: lines.Insert(at, lines[at]); break;
                case 2: lines[at] = lines[at].ToLowerInvariant(); break;
                case 3: lines[at] = " " + lines[at]; break;                         // obsolete line folding
                case 4: lines[at] = lines[at].Replace(": ", ":", StringComparison.Ordinal); break;
                case 5:
                    var chars = lines[at].ToCharArray();
                    if (chars.Length > 0) chars[random.Next(chars.Length)] = (char)random.Next(0, 256);
                    lines[at] = new string(chars);
                    break;
                case 6: lines[at] = lines[at] + new string('x', random.Next(1, 9000)); break;
                case 7: lines.Insert(at, $"X-{random.Next()}: {new string('h', random.Next(0, 200))}"); break;
                case 8: (lines[at], lines[^3]) = (lines[^3], lines[at]); break;
                default:
                    string joined = string.Join("\r\n", lines);
                    return joined[..random.Next(1, joined.Length)];   // cut short: the head never ends
            }
        }
        return string.Join("\r\n", lines);
    }
}
