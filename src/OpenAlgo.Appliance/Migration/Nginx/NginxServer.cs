namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>
/// One <c>server { }</c> block: where it listens, its names, its locations (nested ones flattened
/// with their parent), and the directives of the <c>http { }</c> context it inherits from.
/// </summary>
internal sealed class NginxServer
{
    public required NginxDirective Directive { get; init; }

    /// <summary><c>http</c>, <c>stream</c> or <c>mail</c>.</summary>
    public required string Context { get; init; }

    public required IReadOnlyList<NginxListen> Listens { get; init; }

    /// <summary>Every <c>server_name</c> argument in order (may be empty, <c>_</c>, wildcards or <c>~regex</c>).</summary>
    public required IReadOnlyList<string> Names { get; init; }

    public required IReadOnlyList<NginxLocation> Locations { get; init; }

    public string Where => Directive.Where;

    public string File => Directive.File;

    /// <summary>The exact host names (no <c>_</c>, wildcard or regular expression).</summary>
    public IEnumerable<string> ExactNames => Names.Where(IsExactName).Select(n => n.ToLowerInvariant());

    /// <summary>A server for host names no other block claims (<c>server_name _</c>, none at all, or a <c>default_server</c> without exact names).</summary>
    public bool IsCatchAll => Names.All(n => n is "_" or "") || (Listens.Any(l => l.DefaultServer) && !ExactNames.Any());

    public bool ListensSsl => Listens.Any(l => l.Ssl);

    /// <summary>The names for messages: the first name, or "(no name)".</summary>
    public string Label => Names.FirstOrDefault(n => n is not ("" or "_")) ?? (Names.Count > 0 ? Names[0] : "(no server_name)");

    /// <summary>Directives at server level (not inside locations), includes already expanded.</summary>
    public IEnumerable<NginxDirective> ServerDirectives => Directive.Block ?? [];

    public static bool IsExactName(string name) =>
        name.Length > 0 && name != "_" && !name.StartsWith('~') && !name.Contains('*') && !name.StartsWith('.') && !name.Contains('$');
}

/// <summary>A <c>location</c> (modifier <c>""</c>, <c>=</c>, <c>^~</c>, <c>~</c>, <c>~*</c> or a named <c>@x</c>) and its parent for nested ones.</summary>
internal sealed record NginxLocation(string Modifier, string Uri, NginxDirective Directive, NginxLocation? Parent)
{
    public string Where => Directive.Where;

    public string Text => Modifier.Length == 0 ? $"location {Uri}" : $"location {Modifier} {Uri}";

    /// <summary>Directives in this location's own block, not its nested locations.</summary>
    public IEnumerable<NginxDirective> Own => (Directive.Block ?? []).Where(d => d.Name != "location");

    public bool Is(string modifier, string uri) => Parent is null && Modifier == modifier && Uri == uri;
}

/// <summary>Every server block of the configuration, the <c>upstream</c> blocks, and the http context's own directives.</summary>
internal sealed record NginxServers(IReadOnlyList<NginxServer> Servers, IReadOnlyDictionary<string, NginxDirective> Upstreams, IReadOnlyList<NginxDirective> HttpDirectives)
{
    public static NginxServers From(NginxConfig config)
    {
        var servers = new List<NginxServer>();
        var upstreams = new Dictionary<string, NginxDirective>(StringComparer.Ordinal);
        var http = new List<NginxDirective>();
        foreach (var top in config.Directives)
        {
            if (top.Block is null || top.Name is not ("http" or "stream" or "mail")) continue;
            foreach (var directive in top.Block)
            {
                if (directive.Name == "server" && directive.Block is not null)
                {
                    servers.Add(Server(directive, top.Name));
                }
                else if (directive.Name == "upstream" && directive.Block is not null && top.Name == "http")
                {
                    upstreams[directive.Arg] = directive;
                }
                else if (top.Name == "http")
                {
                    http.Add(directive);
                }
            }
        }
        return new NginxServers(servers, upstreams, http);
    }

    private static NginxServer Server(NginxDirective directive, string context)
    {
        var listens = directive.Children("listen").Select(NginxListen.Parse).ToList();
        if (listens.Count == 0 && context == "http")
        {
            // nginx's default: *:80 (run as root).
            listens.Add(new NginxListen(null, 80, null, false, false, false, directive));
        }
        var names = directive.Children("server_name").SelectMany(d => d.Args).ToList();
        var locations = new List<NginxLocation>();
        Collect(directive, null, locations);
        return new NginxServer { Directive = directive, Context = context, Listens = listens, Names = names, Locations = locations };
    }

    private static void Collect(NginxDirective block, NginxLocation? parent, List<NginxLocation> into)
    {
        foreach (var child in block.Children("location"))
        {
            if (child.Block is null) continue;
            var (modifier, uri) = child.Args.Count switch
            {
                0 => ("", ""),
                1 when child.Arg.StartsWith('@') => ("@", child.Arg),
                1 when child.Arg.StartsWith('=') && child.Arg.Length > 1 => ("=", child.Arg[1..]),
                1 => ("", child.Arg),
                _ => (child.Args[0], child.Args[1]),
            };
            var location = new NginxLocation(modifier, uri, child, parent);
            into.Add(location);
            Collect(child, location, into);
        }
    }
}
