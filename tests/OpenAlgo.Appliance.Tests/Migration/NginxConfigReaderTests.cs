using OpenAlgo.Appliance.Migration;
using OpenAlgo.Appliance.Migration.Nginx;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>nginx's syntax as nginx reads it, and errors that name file and line.</summary>
public sealed class NginxConfigReaderTests
{
    private sealed class Files(Dictionary<string, string> files) : INginxFiles
    {
        public string Description => "test";
        public string? MainFile => "/etc/nginx/nginx.conf";
        public bool Exists(string path) => files.ContainsKey(path);
        public string Read(string path) => files[path];
        public IReadOnlyList<string> Expand(string pattern) => files.Keys.Where(f => Glob.MatchPath(pattern, f)).Order(StringComparer.Ordinal).ToList();
    }

    private static NginxConfig Read(string main, params (string Path, string Text)[] more)
    {
        var files = new Dictionary<string, string> { ["/etc/nginx/nginx.conf"] = main };
        foreach (var (path, text) in more) files[path] = text;
        return NginxConfigReader.Read(new Files(files));
    }

    [Fact]
    public void Comments_quotes_escapes_and_variables_are_read_as_nginx_reads_them()
    {
        var config = Read("""
            http { # a comment { with braces }
                log_format main '$remote_addr - "$request" '
                                '$status';
                map $http_upgrade $connection_upgrade { default upgrade; '' close; }
                server {
                    server_name a.example.com "b.example.com";
                    add_header X-Test "a \"quoted\" value; with ; and {";
                    set $x ${host}suffix;
                    return 200 a#b;
                }
            }
            """);
        var http = config.Directives.Single(d => d.Name == "http");
        var logFormat = http.Block!.Single(d => d.Name == "log_format");
        Assert.Equal(["main", "$remote_addr - \"$request\" ", "$status"], logFormat.Args);
        var map = http.Block!.Single(d => d.Name == "map");
        // '' is an empty word: the map entry's name is empty
        Assert.Equal("", map.Block![1].Name);
        Assert.Equal(["close"], map.Block[1].Args);
        var server = http.Block!.Single(d => d.Name == "server");
        Assert.Equal(["a.example.com", "b.example.com"], server.Child("server_name")!.Args);
        Assert.Equal("a \"quoted\" value; with ; and {", server.Child("add_header")!.Args[1]);
        Assert.Equal(["$x", "${host}suffix"], server.Child("set")!.Args);
        Assert.Equal(["200", "a#b"], server.Child("return")!.Args);
        Assert.Equal(9, server.Child("return")!.Line);
    }

    [Fact]
    public void Includes_expand_globs_in_sorted_order_relative_to_the_main_file_and_keep_their_own_file_and_line()
    {
        var config = Read(
            "http {\n    include mime.types;\n    include /etc/nginx/sites-enabled/*;\n}\n",
            ("/etc/nginx/mime.types", "types { text/html html; }\n"),
            ("/etc/nginx/sites-enabled/b.conf", "\n\nserver { server_name b; }\n"),
            ("/etc/nginx/sites-enabled/a.conf", "server { server_name a; }\n"),
            ("/etc/nginx/sites-enabled/.hidden", "server { server_name hidden; }\n"));
        var http = config.Directives.Single().Block!;
        Assert.Equal(["types", "server", "server"], http.Select(d => d.Name));
        Assert.Equal("a", http[1].Child("server_name")!.Arg);
        Assert.Equal("/etc/nginx/sites-enabled/a.conf:1", http[1].Where);
        Assert.Equal("/etc/nginx/sites-enabled/b.conf:3", http[2].Where);
        Assert.Equal(["/etc/nginx/nginx.conf", "/etc/nginx/mime.types", "/etc/nginx/sites-enabled/a.conf", "/etc/nginx/sites-enabled/b.conf"], config.Files);
    }

    [Fact]
    public void A_glob_that_matches_nothing_is_fine_a_missing_literal_include_is_an_error_naming_file_and_line()
    {
        Read("http {\n    include /etc/nginx/conf.d/*.conf;\n}\n");
        var error = Assert.Throws<NginxSyntaxException>(() => Read("http {\n\n    include /etc/nginx/missing.conf;\n}\n"));
        Assert.Equal("/etc/nginx/nginx.conf", error.File);
        Assert.Equal(3, error.Line);
        Assert.Contains("/etc/nginx/missing.conf", error.Message);
    }

    [Theory]
    [InlineData("http {\n    server {\n        listen 80\n    }\n}\n", 4, "unexpected \"}\"")]
    [InlineData("http {\n    server {\n        listen 80;\n", 4, "unexpected end of file, expecting \"}\"")]
    [InlineData("http {\n}\n}\n", 3, "unexpected \"}\"")]
    [InlineData("http {\n    server_name \"unterminated;\n}\n", 2, "quoted string")]
    [InlineData("http {\n    ;\n}\n", 2, "unexpected \";\"")]
    [InlineData("http {\n    add_header X \"a\"b;\n}\n", 2, "unexpected \"b\"")]
    public void Bad_syntax_names_file_and_line_as_nginx_t_does(string text, int line, string problem)
    {
        var error = Assert.Throws<NginxSyntaxException>(() => Read(text));
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Message);
        Assert.StartsWith($"/etc/nginx/nginx.conf:{line}: ", error.Message);
        Assert.Contains("Fix:", error.Message);
    }

    [Fact]
    public void An_error_in_an_included_file_names_that_file()
    {
        var error = Assert.Throws<NginxSyntaxException>(() => Read("http { include /etc/nginx/sites-enabled/*; }\n",
            ("/etc/nginx/sites-enabled/openalgo.conf", "server {\n    location / {\n        proxy_pass http://unix:/x.sock\n    }\n}\n")));
        Assert.Equal("/etc/nginx/sites-enabled/openalgo.conf", error.File);
        Assert.Equal(4, error.Line);
    }

    [Fact]
    public void Lua_blocks_are_skipped_not_parsed()
    {
        var config = Read("http { server { location /x { content_by_lua_block { ngx.say(\"}\") -- }\n if a then b() end } } server_name y; } }\n");
        var server = config.Directives.Single().Block!.Single();
        Assert.Equal("y", server.Child("server_name")!.Arg);
    }

    [Fact]
    public void An_nginx_T_dump_is_split_into_its_files_and_includes_resolve_against_them()
    {
        string dump = """
            nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
            nginx: configuration file /etc/nginx/nginx.conf test is successful
            # configuration file /etc/nginx/nginx.conf:
            http {
                include /etc/nginx/sites-enabled/*;
            }

            # configuration file /etc/nginx/sites-enabled/openalgo.conf:
            # install.sh's vhost
            server {
                server_name trade.example.com;
                location / { proxy_pass http://unix:/var/python/openalgo/openalgo.sock; }
            }

            """;
        var parsed = NginxDump.Parse("dump.txt", dump);
        Assert.Equal(["/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/openalgo.conf"], parsed.Files);
        var config = NginxConfigReader.Read(parsed);
        var server = config.Directives.Single().Block!.Single();
        Assert.Equal("/etc/nginx/sites-enabled/openalgo.conf:2", server.Where);
        var servers = NginxServers.From(config);
        var pass = servers.Servers[0].Locations[0].Own.Single(d => d.Name == "proxy_pass");
        Assert.Equal("/etc/nginx/sites-enabled/openalgo.conf:4", pass.Where);
    }

    [Fact]
    public void A_dump_that_is_not_nginx_T_output_is_refused_clearly()
    {
        var error = Assert.Throws<MigrationException>(() => NginxDump.Parse("openalgo.conf", "server {\n  listen 80;\n}\n"));
        Assert.StartsWith("openalgo.conf: no '# configuration file PATH:' section", error.Message);
        Assert.Contains("not a single configuration file", error.Message);
        Assert.Contains("nginx -T", error.Message);
    }

    [Theory]
    [InlineData("443 ssl", null, 443, true, false)]
    [InlineData("[::]:443 ssl ipv6only=on", "[::]", 443, true, false)]
    [InlineData("80 default_server", null, 80, false, true)]
    [InlineData("*:80", "*", 80, false, false)]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080, false, false)]
    [InlineData("127.0.0.1", "127.0.0.1", 80, false, false)]
    [InlineData("0.0.0.0:443 ssl http2", "0.0.0.0", 443, true, false)]
    public void Listen_variants(string text, string? address, int port, bool ssl, bool defaultServer)
    {
        var directive = new NginxDirective("listen", text.Split(' '), null, "f", 1);
        var listen = NginxListen.Parse(directive);
        Assert.Equal(address, listen.Address);
        Assert.Equal(port, listen.Port);
        Assert.Equal(ssl, listen.Ssl);
        Assert.Equal(defaultServer, listen.DefaultServer);
    }

    [Theory]
    [InlineData("http://unix:/var/python/openalgo/openalgo.sock", "unix:/var/python/openalgo/openalgo.sock")]
    [InlineData("http://unix:/run/x.sock:/socket.io/", "unix:/run/x.sock")]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000")]
    [InlineData("http://127.0.0.1:8765/", "http://127.0.0.1:8765")]
    [InlineData("http://localhost", "http://localhost:80")]
    [InlineData("http://openalgo_flask/socket.io/", "http://127.0.0.1:5001")]
    public void Proxy_pass_targets(string raw, string upstream)
    {
        var upstreams = new Dictionary<string, NginxDirective>
        {
            ["openalgo_flask"] = new("upstream", ["openalgo_flask"], [new("server", ["127.0.0.1:5001"], null, "f", 2), new("keepalive", ["64"], null, "f", 3)], "f", 1),
        };
        var target = ProxyTarget.Parse(raw, upstreams);
        Assert.Null(target.Unresolved);
        Assert.Equal(upstream, target.ApplianceUpstream);
    }

    [Fact]
    public void A_computed_proxy_pass_is_not_resolved()
    {
        Assert.NotNull(ProxyTarget.Parse("http://$backend", new Dictionary<string, NginxDirective>()).Unresolved);
    }
}
