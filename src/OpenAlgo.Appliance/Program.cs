using System.CommandLine;
using OpenAlgo.Appliance.Hosting;
using OpenAlgo.Appliance.Infrastructure;
using OpenAlgo.Appliance.Tls;

// Before anything initializes OpenSSL: the TLS policy is the binary's own, not the unit's.
// run and demo refuse to start when it is not in force; the other commands serve nothing.
var tlsPolicy = OpenSslPolicy.Apply(SystemdDirectory.Get("RUNTIME_DIRECTORY"));

var configOption = new Option<string?>("--config")
{
    Description = "One more JSON configuration file, layered after appsettings.json and appsettings.{Environment}.json",
    Recursive = true,
};

var root = new RootCommand("OpenAlgo Appliance: TLS edge, OpenAlgo-compatible market-data WebSocket hub and reverse proxy in one binary");
root.Options.Add(configOption);

var run = new Command("run", "Run with the layered configuration (the default command)");
run.SetAction((parse, ct) => ApplianceApp.RunAsync(demo: false, parse.GetValue(configOption), Console.Out, Console.Error, ct, tlsPolicy));
root.SetAction((parse, ct) => ApplianceApp.RunAsync(demo: false, parse.GetValue(configOption), Console.Out, Console.Error, ct, tlsPolicy));

var demo = new Command("demo", "Run on embedded demo defaults: self-signed TLS on 127.0.0.1:8443, simulated market data, a printed demo API key");
demo.SetAction((parse, ct) => ApplianceApp.RunAsync(demo: true, parse.GetValue(configOption), Console.Out, Console.Error, ct, tlsPolicy));

var check = new Command("check", "Validate the configuration like nginx -t: exit 0, or 1 naming each bad or unknown key and its fix");
check.SetAction(parse => ConfigurationCommands.Check(parse.GetValue(configOption), Console.Out, Console.Error));

var showConfig = new Command("show-config", "Print the effective configuration like nginx -T, with where each value came from (secrets redacted)");
showConfig.SetAction(parse => ConfigurationCommands.Show(parse.GetValue(configOption), Console.Out, Console.Error));

var urlArgument = new Argument<string?>("url") { Description = "https://HOST[:PORT]/, HOST:PORT or HOST (default: from the configuration)", Arity = ArgumentArity.ZeroOrOne };
var apiKeyOption = new Option<string?>("--api-key") { Description = "An API key: also authenticate, subscribe and wait for the first tick" };
var symbolOption = new Option<string>("--symbol") { Description = "EXCHANGE:SYMBOL to subscribe with --api-key", DefaultValueFactory = _ => "NSE:RELIANCE" };
var verify = new Command("verify", "Check a running appliance: TLS and certificate expiry, WebSocket upgrade on /ws, authenticate + subscribe + first tick");
verify.Arguments.Add(urlArgument);
verify.Options.Add(apiKeyOption);
verify.Options.Add(symbolOption);
verify.SetAction(async (parse, ct) =>
{
    string? configFile = parse.GetValue(configOption);
    string? text = parse.GetValue(urlArgument);
    string? apiKey = parse.GetValue(apiKeyOption);
    var configuration = VerifyCommand.Configuration(configFile);
    var sites = configuration is { Sites.Count: > 0 } ? configuration.Sites : null;
    var command = new VerifyCommand(Console.Out, VerifyCommand.LogsDirectory(configFile), sites);
    if (text is null && sites is not null)
    {
        if (apiKey is not null)
        {
            await Console.Error.WriteLineAsync($"verify: an API key belongs to one site, and this configuration has {sites.Count}. Fix: give that site's address with it, for example: openalgo-appliance verify {sites[0].Tls.Domains.FirstOrDefault() ?? sites[0].Name + ".example.com"} --api-key KEY");
            return ApplianceApp.ConfigurationError;
        }
        return await command.RunSitesAsync(VerifyCommand.SiteUrls(configuration!), parse.GetValue(symbolOption)!, ct);
    }
    text ??= VerifyCommand.DefaultUrl(configuration);
    if (!VerifyTarget.TryParse(text, out var url, out string? problem))
    {
        await Console.Error.WriteLineAsync(problem);
        return ApplianceApp.ConfigurationError;
    }
    return await command.RunAsync(url, apiKey, parse.GetValue(symbolOption)!, ct);
});

var domainOption = new Option<string[]>("--domain") { Description = "A public host name (Tls:Domains); after --site NAME, one of that site's (repeatable)" };
var emailOption = new Option<string?>("--email") { Description = "Contact for the certificate authority (Tls:Acme:Email)" };
var rootOption = new Option<string>("--root") { Description = "Stage the files under this directory instead of /", DefaultValueFactory = _ => "/" };
var noStartOption = new Option<bool>("--no-start") { Description = "Install without enabling or starting the service" };
var acceptTermsOption = new Option<bool>("--accept-terms") { Description = "Accept the certificate authority's terms of service (Let's Encrypt: https://letsencrypt.org/repository/); asked on a terminal otherwise" };
var upstreamOption = new Option<string[]>("--upstream") { Description = "Where OpenAlgo's web app listens (Proxy:Upstream): unix:/path/to/gunicorn.sock or http://127.0.0.1:5000; found from OpenAlgo's installers' layout when not given; after --site NAME, that site's" };
var installSiteOption = new Option<string[]>("--site") { Description = "Start a site (Appliance:Sites:NAME, one OpenAlgo instance): the --domain and --upstream options after it are its own (repeatable)" };
var install = new Command("install", "Install this binary as a systemd service: /usr/bin, /etc/openalgo-appliance, the units, the service user; then start it");
install.Options.Add(domainOption);
install.Options.Add(installSiteOption);
install.Options.Add(emailOption);
install.Options.Add(rootOption);
install.Options.Add(noStartOption);
install.Options.Add(acceptTermsOption);
install.Options.Add(upstreamOption);
install.SetAction(parse =>
{
    // --site groups the --domain and --upstream typed after it: their order matters, so read the tokens.
    var typed = new List<(string Option, string Value)>();
    string? current = null;
    foreach (var token in parse.Tokens)
    {
        if (token.Type == System.CommandLine.Parsing.TokenType.Option) current = token.Value is InstallSites.SiteOption or InstallSites.DomainOption or InstallSites.UpstreamOption ? token.Value : null;
        else if (token.Type == System.CommandLine.Parsing.TokenType.Argument && current is not null) typed.Add((current, token.Value));
    }
    var sites = InstallSites.From(typed, Console.Error);
    if (sites is null) return ApplianceApp.ConfigurationError;
    return new InstallCommand(Console.Out, Console.Error, Console.IsInputRedirected ? null : Console.In).Install(
        sites, parse.GetValue(emailOption), parse.GetValue(rootOption)!, !parse.GetValue(noStartOption), parse.GetValue(acceptTermsOption));
});

var purgeOption = new Option<bool>("--purge") { Description = "Also remove configuration, state (certificates, keys) and logs" };
var uninstall = new Command("uninstall", "Stop and remove the service installed by 'install'");
uninstall.Options.Add(rootOption);
uninstall.Options.Add(purgeOption);
uninstall.SetAction(parse => new InstallCommand(Console.Out, Console.Error).Uninstall(parse.GetValue(rootOption)!, parse.GetValue(purgeOption)));

var certOption = new Option<string>("--cert") { Description = "Full-chain PEM (certbot: /etc/letsencrypt/live/DOMAIN/fullchain.pem)", Required = true };
var keyOption = new Option<string>("--key") { Description = "Its private key PEM (certbot: privkey.pem)", Required = true };
var stateOption = new Option<string?>("--state-directory") { Description = "Where the appliance keeps its state (default: $STATE_DIRECTORY, else /var/lib/openalgo-appliance on a package install)" };
var importCertificate = new Command("import-certificate", "Take over an existing certificate (e.g. certbot's): served from the next start, renewed by the appliance at 2/3 of its lifetime");
importCertificate.Options.Add(certOption);
importCertificate.Options.Add(keyOption);
var siteOption = new Option<string?>("--site") { Description = "The site the certificate is for (Appliance:Sites:NAME); needed when several sites are configured" };
importCertificate.Options.Add(stateOption);
importCertificate.Options.Add(siteOption);
importCertificate.SetAction(parse => new ImportCertificateCommand(Console.Out, Console.Error).Run(parse.GetValue(certOption)!, parse.GetValue(keyOption)!, parse.GetValue(configOption), parse.GetValue(stateOption), parse.GetValue(siteOption)));

var migrateRoot = new Option<string>("--root") { Description = "Treat this directory as / (a rehearsal on a copy): files read and written there, systemctl commands printed, not run", DefaultValueFactory = _ => "/" };
var nginxDump = new Option<string?>("--nginx-dump") { Description = "Read nginx's configuration from this file (the output of 'sudo nginx -T') instead of /etc/nginx" };
var applyOption = new Option<bool>("--apply") { Description = "Carry the plan out (default: print it and change nothing); writes rollback.sh" };
var migrate = new Command("migrate", "Read the nginx + certbot setup this replaces and print the plan to take it over; --apply does it, with a rollback.sh");
migrate.Options.Add(migrateRoot);
migrate.Options.Add(nginxDump);
migrate.Options.Add(applyOption);
migrate.SetAction(parse => new OpenAlgo.Appliance.Migration.MigrateCommand(Console.Out, Console.Error, TimeProvider.System).Run(parse.GetValue(migrateRoot)!, parse.GetValue(nginxDump), parse.GetValue(applyOption)));

var adminOption = new Option<string?>("--admin") { Description = "The admin listener to ask, host:port or unix:/path (default: Listen:Admin from the configuration)" };
var status = new Command("status", "The running service's picture: per site certificate, source, clients, rates; exit 1 when unhealthy, 3 when not running");
status.Options.Add(adminOption);
status.SetAction((parse, ct) => new StatusCommand(Console.Out, Console.Error).RunAsync(parse.GetValue(configOption), parse.GetValue(adminOption), ct));

var certificates = new Command("certificates", "Like certbot certificates, offline: per site names, issuer, serial, expiry, next renewal and why, last error");
var certificatesStateOption = new Option<string?>("--state-directory") { Description = "Where the appliance keeps its state (default: as import-certificate)" };
certificates.Options.Add(certificatesStateOption);
certificates.SetAction(parse => new CertificatesCommand(Console.Out, Console.Error).Run(parse.GetValue(configOption), parse.GetValue(certificatesStateOption)));

root.Subcommands.Add(run);
root.Subcommands.Add(migrate);
root.Subcommands.Add(status);
root.Subcommands.Add(certificates);
root.Subcommands.Add(importCertificate);
root.Subcommands.Add(install);
root.Subcommands.Add(uninstall);
root.Subcommands.Add(verify);
root.Subcommands.Add(check);
root.Subcommands.Add(showConfig);
root.Subcommands.Add(demo);
return await root.Parse(args).InvokeAsync();
