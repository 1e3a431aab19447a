namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// Reads nginx's configuration as nginx does: the main file, every <c>include</c> replaced in place
/// by the directives of the files it names (relative patterns from the main file's directory, globs
/// sorted, a literal file that is missing is an error, a glob that matches nothing is not).
/// </summary>
internal static class NginxConfigReader
{
    private const int MaxIncludeDepth = 32;

    /// <summary>Directives whose block is Lua, not nginx syntax.</summary>
    private static bool IsRawBlock(string name) => name.EndsWith("_by_lua_block", StringComparison.Ordinal);

    public static NginxConfig Read(INginxFiles files)
    {
        var read = new List<string>();
        if (files.MainFile is not { } main)
        {
            // No nginx.conf (a partial copy): Debian's and RHEL's http context includes these two.
            const string implied = "(implied nginx.conf)";
            var http = new List<NginxDirective>();
            foreach (var pattern in new[] { "/etc/nginx/conf.d/*.conf", "/etc/nginx/sites-enabled/*" })
            {
                foreach (var file in files.Expand(pattern))
                {
                    read.Add(file);
                    http.AddRange(Parse(files, file, "/etc/nginx", read, 1));
                }
            }
            return new NginxConfig(files.Description, [new NginxDirective("http", [], http, implied, 1)], read);
        }
        read.Add(main);
        string prefix = Path.GetDirectoryName(main) ?? "/etc/nginx";
        return new NginxConfig(files.Description, Parse(files, main, prefix, read, 0), read);
    }

    /// <summary>Parses one text (tests, and the files above) with includes resolved against <paramref name="files"/>.</summary>
    public static List<NginxDirective> Parse(INginxFiles files, string file, string prefix, List<string> read, int depth)
    {
        var tokenizer = new NginxTokenizer(file, files.Read(file));
        var result = ParseBlock(tokenizer, files, prefix, read, depth, nested: false);
        return result;
    }

    private static List<NginxDirective> ParseBlock(NginxTokenizer tokenizer, INginxFiles files, string prefix, List<string> read, int depth, bool nested)
    {
        var directives = new List<NginxDirective>();
        var words = new List<string>();
        int blockLine = tokenizer.Line;
        while (true)
        {
            char end = tokenizer.Next(words, out int line);
            switch (end)
            {
                case '\0':
                    if (nested) throw tokenizer.Error(tokenizer.Line, "unexpected end of file, expecting \"}\"");
                    return directives;
                case '}':
                    if (!nested) throw tokenizer.Error(line, "unexpected \"}\"");
                    return directives;
                case '{':
                {
                    string name = words[0];
                    if (IsRawBlock(name))
                    {
                        tokenizer.SkipRawBlock(line);
                        directives.Add(new NginxDirective(name, words.Skip(1).ToList(), [], tokenizer.File, line));
                        break;
                    }
                    var args = words.Skip(1).ToList();
                    var block = ParseBlock(tokenizer, files, prefix, read, depth, nested: true);
                    directives.Add(new NginxDirective(name, args, block, tokenizer.File, line));
                    break;
                }
                default:
                {
                    string name = words[0];
                    var args = words.Skip(1).ToList();
                    if (name == "include")
                    {
                        if (args.Count != 1) throw tokenizer.Error(line, "invalid number of arguments in \"include\" directive");
                        directives.AddRange(Include(args[0], tokenizer, files, prefix, read, depth, line));
                        break;
                    }
                    directives.Add(new NginxDirective(name, args, null, tokenizer.File, line));
                    break;
                }
            }
        }
    }

    private static IEnumerable<NginxDirective> Include(string pattern, NginxTokenizer tokenizer, INginxFiles files, string prefix, List<string> read, int depth, int line)
    {
        if (depth >= MaxIncludeDepth) throw tokenizer.Error(line, $"include nested more than {MaxIncludeDepth} deep (an include loop?)");
        string full = pattern.StartsWith('/') ? pattern : prefix.TrimEnd('/') + "/" + pattern;
        IReadOnlyList<string> matches;
        if (Glob.HasMagic(full))
        {
            matches = files.Expand(full);
        }
        else
        {
            if (!files.Exists(full)) throw tokenizer.Error(line, $"include names \"{full}\", which does not exist");
            matches = [full];
        }
        var result = new List<NginxDirective>();
        foreach (var file in matches)
        {
            if (!read.Contains(file)) read.Add(file);
            result.AddRange(ParseBlock(new NginxTokenizer(file, files.Read(file)), files, prefix, read, depth + 1, nested: false));
        }
        return result;
    }
}

/// <summary>The whole configuration: top-level directives (includes expanded) and the files read.</summary>
internal sealed record NginxConfig(string Source, IReadOnlyList<NginxDirective> Directives, IReadOnlyList<string> Files);
