using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Migration;

/// <summary>
/// What migrate refuses, and what it does when something goes wrong: each case is a real layout
/// changed the way an operator might have changed it, run through the command as users type it.
/// </summary>
public sealed class MigratePlanTests
{
    private const string Vhost = "/etc/nginx/sites-available/openalgo.conf";

    private static void Edit(MigrationFixture fixture, string systemPath, string after, string insert)
    {
        string text = fixture.Read(systemPath);
        int at = text.IndexOf(after, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{after}' not in {systemPath}");
        File.WriteAllText(fixture.Path(systemPath), text.Insert(at + after.Length, insert));
    }

    /// <summary>The dry run lists it as blocking; --apply refuses and changes nothing.</summary>
    private static string AssertBlocked(MigrationFixture fixture, string expected)
    {
        var before = fixture.Snapshot();
        var (exit, stdout, stderr) = fixture.Migrate();
        Assert.True(exit == 0, stdout + stderr);
        var line = stdout.Split('\n').FirstOrDefault(l => l.Contains("BLOCKS --apply", StringComparison.Ordinal) && l.Contains(expected, StringComparison.Ordinal));
        Assert.True(line is not null, $"no blocking line with '{expected}':\n{stdout}");
        Assert.Contains("--apply refuses while", stdout);

        var apply = fixture.Migrate("--apply");
        Assert.Equal(1, apply.Exit);
        Assert.DoesNotContain("Applying", apply.Stdout);
        Assert.Equal(before, fixture.Snapshot());
        return line;
    }

    [Fact]
    public void Basic_auth_in_front_of_OpenAlgo_blocks_the_apply()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "server_name trade.example.com;\n    \n", "    auth_basic \"OpenAlgo\";\n    auth_basic_user_file /etc/nginx/.htpasswd;\n");
        string line = AssertBlocked(fixture, "auth_basic OpenAlgo");
        Assert.Contains("/etc/nginx/sites-enabled/openalgo.conf:", line);
        Assert.Contains("the appliance has no equivalent", line);
    }

    [Fact]
    public void A_custom_location_blocks_the_apply()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "add_header Strict-Transport-Security \"max-age=63072000\" always;\n", "\n    location /static/ {\n        alias /srv/openalgo-static/;\n    }\n");
        string line = AssertBlocked(fixture, "location /static/");
        Assert.Contains("a custom location (alias /srv/openalgo-static/)", line);
    }

    [Fact]
    public void A_second_upstream_blocks_the_apply()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "add_header Strict-Transport-Security \"max-age=63072000\" always;\n", "\n    location /grafana/ {\n        proxy_pass http://127.0.0.1:3000/;\n    }\n");
        AssertBlocked(fixture, "a second upstream (http://127.0.0.1:3000/)");
    }

    [Fact]
    public void A_path_sent_to_the_same_gunicorn_is_covered_by_the_proxy()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "add_header Strict-Transport-Security \"max-age=63072000\" always;\n",
            "\n    location /mcp {\n        proxy_pass http://unix:/var/python/openalgo/openalgo.sock;\n        proxy_http_version 1.1;\n        proxy_buffering off;\n        proxy_set_header Host $host;\n    }\n");
        var (exit, stdout, stderr) = fixture.Migrate();
        Assert.True(exit == 0, stdout + stderr);
        Assert.DoesNotContain("BLOCKS", stdout);
        Assert.Contains("  web app      unix:/var/python/openalgo/openalgo.sock (location /mcp, location /socket.io/, location /)", stdout);
    }

    [Fact]
    public void A_header_the_appliance_does_not_send_blocks_the_apply()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "add_header X-Frame-Options DENY;\n", "    add_header Content-Security-Policy \"default-src 'self'\";\n");
        AssertBlocked(fixture, "the appliance does not send Content-Security-Policy");
    }

    [Fact]
    public void Another_site_on_443_blocks_the_apply_a_local_status_page_is_kept_by_nginx()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.WriteAllText(fixture.Path("/etc/nginx/sites-enabled/portainer.example.com"), """
            server {
                listen 443 ssl http2;
                server_name portainer.example.com;
                ssl_certificate /etc/nginx/ssl/portainer.example.com/fullchain.pem;
                ssl_certificate_key /etc/nginx/ssl/portainer.example.com/privkey.pem;
                location / {
                    proxy_pass http://127.0.0.1:9000;
                }
            }
            """);
        string line = AssertBlocked(fixture, "server portainer.example.com");
        Assert.Contains("it would stop being served", line);
    }

    [Fact]
    public void Nothing_to_migrate_exits_1_saying_why()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.Delete(fixture.Path("/etc/nginx/sites-enabled/openalgo.conf"));
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(1, exit);
        Assert.Contains("Nothing to migrate: no enabled nginx server block proxies to an OpenAlgo instance.", stdout);
    }

    [Fact]
    public void A_socket_no_unit_runs_is_reported_not_guessed()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.Delete(fixture.Path("/etc/systemd/system/openalgo.service"));
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(1, exit);
        Assert.Contains("BLOCKS --apply: /etc/nginx/sites-enabled/openalgo.conf:21 server trade.example.com (listen *:443 ssl, [::]:443 ssl): no systemd unit runs gunicorn on unix:/var/python/openalgo/openalgo.sock (found /var/python/openalgo/.env, but no service to restart after moving its WEBSOCKET_PORT)", stdout);
    }

    [Fact]
    public void A_syntax_error_names_file_and_line_and_changes_nothing()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "ssl_session_tickets off", "\n    }");
        var (exit, stdout, stderr) = fixture.Migrate("--apply");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith("migrate: /etc/nginx/sites-enabled/openalgo.conf:38: unexpected \"}\". Fix:", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void The_output_of_nginx_T_gives_the_same_plan_as_the_files()
    {
        using var fixture = MigrationFixture.Create("debian-multi-three");
        var files = fixture.Migrate();
        Assert.Equal(0, files.Exit);
        // nginx -T: the main file first, then each file in the order nginx opened it.
        var read = files.Stdout.Split('\n').First(l => l.StartsWith("  files read: ", StringComparison.Ordinal))["  files read: ".Length..].Split(", ");
        // As 'sudo nginx -T > FILE 2>&1' writes it on a host whose name does not resolve: sudo's warning first.
        var dump = new System.Text.StringBuilder("sudo: unable to resolve host vm: Temporary failure in name resolution\nnginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n");
        var root = new OpenAlgo.Appliance.Migration.SystemRoot(fixture.Root);
        foreach (var file in read) dump.Append("# configuration file ").Append(file).Append(":\n").Append(root.ReadAllText(file)).Append('\n');
        string dumpFile = Path.Combine(fixture.Root, "nginx-T.txt");
        File.WriteAllText(dumpFile, dump.ToString());

        var fromDump = fixture.Migrate("--nginx-dump", dumpFile);
        Assert.True(fromDump.Exit == 0, fromDump.Stdout + fromDump.Stderr);
        static string WithoutSource(string text) => string.Join('\n', text.Split('\n').Where(l => !l.StartsWith("nginx: ", StringComparison.Ordinal)));
        Assert.Equal(WithoutSource(files.Stdout), WithoutSource(fromDump.Stdout));
        Assert.Contains($"nginx: nginx -T output in {dumpFile} (6 files)", fromDump.Stdout);
    }

    [Fact]
    public void A_failing_step_rolls_back_by_itself_and_leaves_every_file_as_it_was()
    {
        using var fixture = MigrationFixture.Create("debian-multi-three");
        // The third lineage's key no longer matches its certificate (an interrupted manual renewal):
        // the import fails after two certificates were imported.
        fixture.Certbot("/etc/letsencrypt/live/f3.example.net", ["f3.example.net"]);
        File.Copy(fixture.Path("/etc/letsencrypt/archive/a1.example.com/privkey1.pem"), fixture.Path("/etc/letsencrypt/archive/f3.example.net/privkey1.pem"), overwrite: true);
        var before = fixture.Snapshot();

        var (exit, stdout, stderr) = fixture.Migrate("--apply");

        Assert.Equal(1, exit);
        Assert.Contains("migrate: step 4 failed: cannot import /etc/letsencrypt/live/f3.example.net/fullchain.pem", stderr);
        Assert.Contains("Rolled back: the server is as it was before migrate --apply.", stdout);
        MigrateFixtureTests.AssertRestored(before, fixture.Snapshot());
        // A rolled-back attempt does not count as a migration: the next one may run.
        Assert.Equal(0, fixture.Migrate().Exit);
    }

    [Fact]
    public void A_migrated_server_is_not_migrated_twice_and_after_rollback_it_can_be_again()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Assert.Equal(0, fixture.Migrate("--apply").Exit);

        var again = fixture.Migrate("--apply");
        Assert.Equal(1, again.Exit);
        Assert.Contains("This server was migrated already (applied ", again.Stdout);
        Assert.DoesNotContain("Applying", again.Stdout);

        var (rollbackExit, rollbackOutput) = Processes.Run("sh", null, fixture.Path("/var/lib/openalgo-appliance/rollback.sh"));
        Assert.True(rollbackExit == 0, rollbackOutput);
        var third = fixture.Migrate("--apply");
        Assert.True(third.Exit == 0, third.Stdout + third.Stderr);
        Assert.Contains("the earlier migration's backups and rollback.sh moved to /var/lib/openalgo-appliance/migration/earlier-", third.Stdout);
        // The first record is kept inside the directory the service cannot see.
        Assert.Single(Directory.GetDirectories(fixture.Path("/var/lib/openalgo-appliance/migration"), "earlier-*"));
        Assert.Equal(["migration", "rollback.sh", "sites"], Directory.GetFileSystemEntries(fixture.Path("/var/lib/openalgo-appliance")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_missing_WEBSOCKET_PORT_is_appended_and_the_rollback_takes_it_out()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        string env = fixture.Path("/var/python/openalgo/.env");
        File.WriteAllText(env, File.ReadAllText(env).Replace("WEBSOCKET_PORT='8765'\n", "", StringComparison.Ordinal));
        string original = File.ReadAllText(env);
        var before = fixture.Snapshot();

        var (exit, stdout, stderr) = fixture.Migrate("--apply");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains(".env         /var/python/openalgo/.env: no WEBSOCKET_PORT (OpenAlgo's default 8765) → WEBSOCKET_PORT='8766' appended", stdout);
        Assert.Equal(original + "WEBSOCKET_PORT='8766'\n", File.ReadAllText(env));

        Assert.Equal(0, Processes.Run("sh", null, fixture.Path("/var/lib/openalgo-appliance/rollback.sh")).Exit);
        MigrateFixtureTests.AssertRestored(before, fixture.Snapshot());
    }

    [Fact]
    public void An_expired_certificate_is_not_imported_the_appliance_orders_one()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        fixture.Certbot("/etc/letsencrypt/live/trade.example.com", ["trade.example.com"], DateTimeOffset.UtcNow.AddDays(-1));
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(0, exit);
        Assert.Contains("expired on ", stdout);
        Assert.Contains("certificate  none to import: obtained by the appliance over ACME when it starts (Tls:Mode=Acme)", stdout);
        Assert.DoesNotContain("import /etc/letsencrypt", stdout);
    }

    [Fact]
    public void A_wildcard_certbot_renews_by_DNS_stays_with_certbot_and_is_copied_on_each_renewal()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        fixture.Certbot("/etc/letsencrypt/live/trade.example.com", ["*.example.com", "example.com"]);
        string renewal = fixture.Path("/etc/letsencrypt/renewal/trade.example.com.conf");
        File.WriteAllText(renewal, File.ReadAllText(renewal).Replace("authenticator = nginx", "authenticator = dns-cloudflare", StringComparison.Ordinal));
        var before = fixture.Snapshot();

        var (exit, stdout, stderr) = fixture.Migrate("--apply");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("\"Mode\": \"Files\"", fixture.Read("/etc/openalgo-appliance/appsettings.Production.json"));
        Assert.Contains("\"CertificateFile\": \"/var/lib/openalgo-appliance/certificates/trade-example-com/fullchain.pem\"", fixture.Read("/etc/openalgo-appliance/appsettings.Production.json"));
        Assert.Equal(File.ReadAllText(fixture.Path("/etc/letsencrypt/live/trade.example.com/privkey.pem")), fixture.Read("/var/lib/openalgo-appliance/certificates/trade-example-com/privkey.pem"));
        // certbot keeps its timer (it still renews this lineage) and hands each renewal over.
        Assert.DoesNotContain("snap stop --disable certbot.renew", stdout);
        string hook = fixture.Read("/etc/letsencrypt/renewal-hooks/deploy/openalgo-appliance-trade-example-com.sh");
        Assert.Contains("[ \"$RENEWED_LINEAGE\" = \"/etc/letsencrypt/live/trade.example.com\" ] || exit 0", hook);

        // The hook, run as certbot runs it after a renewal, puts the new pair in place.
        fixture.Certbot("/etc/letsencrypt/live/trade.example.com", ["*.example.com", "example.com"]);
        string rooted = hook.Replace("\"/var/lib/", $"\"{fixture.Root}/var/lib/", StringComparison.Ordinal).Replace("\"/etc/letsencrypt/", $"\"{fixture.Root}/etc/letsencrypt/", StringComparison.Ordinal);
        File.WriteAllText(fixture.Path("/tmp-hook.sh"), rooted);
        var (hookExit, hookOutput) = Processes.Run("env", null, $"RENEWED_LINEAGE={fixture.Root}/etc/letsencrypt/live/trade.example.com", "sh", fixture.Path("/tmp-hook.sh"));
        Assert.True(hookExit == 0, hookOutput);
        File.Delete(fixture.Path("/tmp-hook.sh"));
        Assert.Equal(File.ReadAllText(fixture.Path("/etc/letsencrypt/live/trade.example.com/fullchain.pem")), fixture.Read("/var/lib/openalgo-appliance/certificates/trade-example-com/fullchain.pem"));

        Assert.Equal(0, Processes.Run("sh", null, fixture.Path("/var/lib/openalgo-appliance/rollback.sh")).Exit);
        var after = fixture.Snapshot();
        // The renewal made for the hook test is certbot's, not the migration's.
        foreach (var key in after.Keys.Where(k => k.StartsWith("etc/letsencrypt/archive", StringComparison.Ordinal) || k.StartsWith("etc/letsencrypt/live", StringComparison.Ordinal)).ToList())
        {
            after.Remove(key);
            before.Remove(key);
        }
        MigrateFixtureTests.AssertRestored(before, after);
    }

    [Fact]
    public void A_socket_the_service_user_cannot_open_is_warned_about()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        string path = fixture.Path("/var/python/openalgo/openalgo.sock");
        // gunicorn's socket, bound for the test's length (.NET removes the file when the socket goes).
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(0, exit);
        Assert.Contains("warning      the service's user (openalgo-appliance) may not reach gunicorn's socket: /var/python/openalgo/openalgo.sock is not writable for others.", stdout);

        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("777", 8));
        Assert.DoesNotContain("may not reach gunicorn's socket", fixture.Migrate().Stdout);
    }

    [Fact]
    public void An_appliance_that_was_enabled_before_is_restarted_on_the_new_configuration_and_back()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.CreateSymbolicLink(fixture.Path("/etc/systemd/system/multi-user.target.wants/openalgo-appliance.service"), "/lib/systemd/system/openalgo-appliance.service");
        var (exit, stdout, stderr) = fixture.Migrate("--apply");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("(--root: not run) systemctl restart openalgo-appliance.service", stdout);
        string rollback = fixture.Read("/var/lib/openalgo-appliance/rollback.sh");
        Assert.Contains("run systemctl restart openalgo-appliance.service   # the appliance back on its earlier configuration", rollback);
        Assert.DoesNotContain("disable --now openalgo-appliance", rollback);
    }

    [Fact]
    public void A_server_block_certbot_rewrote_is_migrated_with_its_redirect()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.WriteAllText(fixture.Path("/etc/letsencrypt/options-ssl-nginx.conf"), """
            # This file contains important security parameters. If you modify this file
            # manually, Certbot will be unable to automatically provide future security
            # updates. Instead, Certbot will print and log an error message with a path to
            # the up-to-date file that you will need to refer to when manually updating
            # this file. Contents are based on https://ssl-config.mozilla.org

            ssl_session_cache shared:le_nginx_SSL:10m;
            ssl_session_timeout 1440m;
            ssl_session_tickets off;

            ssl_protocols TLSv1.2 TLSv1.3;
            ssl_prefer_server_ciphers off;

            ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
            """);
        File.WriteAllText(fixture.Path("/etc/letsencrypt/ssl-dhparams.pem"), "-----BEGIN DH PARAMETERS-----\nMAgCAQACAQI=\n-----END DH PARAMETERS-----\n");
        File.WriteAllText(fixture.Path(Vhost), """
            server {
                server_name trade.example.com;

                location / {
                    proxy_pass http://unix:/var/python/openalgo/openalgo.sock;
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                }

                location = /ws {
                    proxy_pass http://127.0.0.1:8765;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $connection_upgrade;
                }

                listen [::]:443 ssl ipv6only=on; # managed by Certbot
                listen 443 ssl; # managed by Certbot
                ssl_certificate /etc/letsencrypt/live/trade.example.com/fullchain.pem; # managed by Certbot
                ssl_certificate_key /etc/letsencrypt/live/trade.example.com/privkey.pem; # managed by Certbot
                include /etc/letsencrypt/options-ssl-nginx.conf; # managed by Certbot
                ssl_dhparam /etc/letsencrypt/ssl-dhparams.pem; # managed by Certbot

            }
            server {
                if ($host = trade.example.com) {
                    return 301 https://$host$request_uri;
                } # managed by Certbot


                listen 80;
                listen [::]:80;
                server_name trade.example.com;
                return 404; # managed by Certbot


            }
            """);
        var (exit, stdout, stderr) = fixture.Migrate();
        Assert.True(exit == 0, stdout + stderr);
        Assert.DoesNotContain("BLOCKS", stdout);
        Assert.Contains("  nginx        /etc/nginx/sites-enabled/openalgo.conf:1 (https); /etc/nginx/sites-enabled/openalgo.conf:25 (http)", stdout);
        Assert.Contains("ssl_dhparam", stdout);
        Assert.Contains("Ready: sudo openalgo-appliance migrate --apply", stdout);
    }
    [Fact]
    public void A_proxy_pass_that_rewrites_the_path_blocks_the_apply()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, Vhost, "add_header Strict-Transport-Security \"max-age=63072000\" always;\n",
            "\n    location /openalgo/ {\n        proxy_pass http://unix:/var/python/openalgo/openalgo.sock:/;\n    }\n");
        string line = AssertBlocked(fixture, "location /openalgo/");
        Assert.Contains("sends /openalgo/… to OpenAlgo as /…; the appliance passes paths unchanged", line);
    }

    [Fact]
    public void A_redirect_for_names_no_site_serves_blocks_the_apply_saying_so()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.WriteAllText(fixture.Path("/etc/nginx/sites-enabled/old-domain"), """
            server {
                listen 443 ssl;
                server_name old-trade.example.com;
                ssl_certificate /etc/letsencrypt/live/trade.example.com/fullchain.pem;
                ssl_certificate_key /etc/letsencrypt/live/trade.example.com/privkey.pem;
                return 301 https://trade.example.com$request_uri;
            }
            """);
        string line = AssertBlocked(fixture, "server old-trade.example.com");
        Assert.Contains("return 301 https://trade.example.com$request_uri for old-trade.example.com, which no site serves", line);
        Assert.Contains("the appliance has no redirect from one host name to another", line);
    }

    [Fact]
    public void A_default_server_among_several_sites_is_noted_one_site_answers_every_name_anyway()
    {
        using var fixture = MigrationFixture.Create("debian-multi-three");
        string vhost = "/etc/nginx/sites-available/a1.example.com";
        File.WriteAllText(fixture.Path(vhost), fixture.Read(vhost).Replace("    listen 443 ssl;\n", "    listen 443 ssl default_server;\n", StringComparison.Ordinal));
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(0, exit);
        Assert.Contains("  note         /etc/nginx/sites-enabled/a1.example.com:21 listen 443 ssl default_server: nginx answered host names no server block claims (and the bare IP address) with this site; with several sites the appliance refuses them", stdout);
        Assert.DoesNotContain("BLOCKS", stdout);

        using var single = MigrationFixture.Create("debian-single-new");
        File.WriteAllText(single.Path(Vhost), single.Read(Vhost).Replace("    listen 443 ssl;\n", "    listen 443 ssl default_server;\n", StringComparison.Ordinal));
        Assert.DoesNotContain("default_server: nginx answered", single.Migrate().Stdout);
    }

    [Fact]
    public void A_server_on_IPv6_only_is_told_the_appliance_takes_IPv4_as_well()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        File.WriteAllText(fixture.Path(Vhost), fixture.Read(Vhost).Replace("    listen 443 ssl;\n", "", StringComparison.Ordinal));
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(0, exit);
        Assert.Contains("  https  [::]:443  (nginx: listen [::]:443 ssl)", stdout);
        Assert.Contains("  https  nginx listened on IPv6 only ([::]:443, ipv6only=on by default); the appliance's [::]:443 takes IPv4 connections as well", stdout);

        File.WriteAllText(fixture.Path(Vhost), fixture.Read(Vhost).Replace("    listen [::]:443 ssl;\n", "    listen [::]:443 ssl ipv6only=off;\n", StringComparison.Ordinal));
        Assert.DoesNotContain("IPv6 only", fixture.Migrate().Stdout);
    }

    [Fact]
    public void Http2_in_the_http_context_is_replaced_by_HTTP_1_1_and_a_Referrer_Policy_the_appliance_does_not_send_blocks()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        Edit(fixture, "/etc/nginx/nginx.conf", "ssl_prefer_server_ciphers on;\n", "\thttp2 on;\n");
        Edit(fixture, Vhost, "add_header X-Frame-Options DENY;\n", "    add_header Referrer-Policy no-referrer;\n");
        var (exit, stdout, _) = fixture.Migrate();
        Assert.Equal(0, exit);
        Assert.Contains("http2 on → HTTP/1.1 (the appliance offers only HTTP/1.1 in ALPN)", stdout);
        Assert.Contains("add_header Referrer-Policy no-referrer: the appliance sends Referrer-Policy strict-origin-when-cross-origin, not no-referrer", stdout);
    }
    [Fact]
    public void Rollback_sh_is_rewritten_in_place_so_the_services_read_only_mount_keeps_holding_it()
    {
        using var fixture = MigrationFixture.Create("debian-single-new");
        var root = new OpenAlgo.Appliance.Migration.SystemRoot(fixture.Root);
        var plan = new OpenAlgo.Appliance.Migration.Planning.MigrationPlanner(root, new OpenAlgo.Appliance.Migration.Nginx.RootedNginxFiles(root)).Plan();
        // The service starts between two steps and mounts the rollback.sh it finds; later steps rewrite it.
        var seen = new List<string>();
        var steps = new List<OpenAlgo.Appliance.Migration.Applying.MigrationStep> { new OpenAlgo.Appliance.Migration.Applying.PrepareStateStep(), new Inode(fixture, seen), new Inode(fixture, seen) };
        var output = new StringWriter();
        int exit = new OpenAlgo.Appliance.Migration.Applying.MigrationApplier(root, output, output, new OpenAlgo.Appliance.Migration.Applying.CommandRunner(output, live: false), TimeProvider.System).Apply(plan, steps);

        Assert.True(exit == 0, output.ToString());
        seen.Add(Inode.Of(fixture));
        Assert.Equal(3, seen.Count);
        Assert.All(seen, inode => Assert.Equal(seen[0], inode));
        // A complete copy, written atomically, where only root can see it.
        Assert.Equal(fixture.Read("/var/lib/openalgo-appliance/rollback.sh"), fixture.Read("/var/lib/openalgo-appliance/migration/rollback.sh"));
    }

    private sealed class Inode(MigrationFixture fixture, List<string> seen) : OpenAlgo.Appliance.Migration.Applying.MigrationStep
    {
        public override string Description => "note rollback.sh's inode";

        public override void Run(OpenAlgo.Appliance.Migration.Applying.ApplyContext context) => seen.Add(Of(fixture));

        public static string Of(MigrationFixture fixture)
        {
            var (exit, output) = Processes.Run("stat", null, "-c", "%i", fixture.Path("/var/lib/openalgo-appliance/rollback.sh"));
            Assert.Equal(0, exit);
            return output.Trim();
        }
    }
}
