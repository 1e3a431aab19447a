using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.Documentation;

/// <summary>
/// README's two commands, as a user types them: the demo (from the checkout, with <c>dotnet run</c>)
/// and the test command's prerequisite step; and <c>.ci/run</c> runs exactly that test command.
/// </summary>
[Collection(CheckoutBuilds.Name)]
public sealed class ReadmeCommandsTests
{
    private static readonly string Root = Processes.RepositoryRoot();

    /// <summary>The command lines of README's first ```bash block (the "Try it, test it" pair).</summary>
    private static string[] ReadmeCommands()
    {
        string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        string block = Regex.Matches(readme, "```bash\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value)
            .First(b => b.Contains("demo", StringComparison.Ordinal));
        return block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
    }

    [Fact]
    public void Readme_shows_two_commands_and_ci_runs_the_second_one_exactly()
    {
        var commands = ReadmeCommands();
        Assert.Equal(["dotnet run --project src/OpenAlgo.Appliance -- demo", "tests/run.sh"], commands);
        string test = commands[1];
        Assert.True(File.Exists(Path.Combine(Root, test)), test);
        Assert.True((File.GetUnixFileMode(Path.Combine(Root, test)) & UnixFileMode.UserExecute) != 0, $"{test} is not executable");
        // CI is the README's command, not its own install line: one list of packages, one entry point.
        var ci = File.ReadAllLines(Path.Combine(Root, ".ci/run")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(test, ci[^1]);
        Assert.DoesNotContain(ci, l => l.Contains("apt-get", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_demo_command_runs_as_written_from_the_checkout()
    {
        string command = ReadmeCommands()[0];
        string scratch = Directory.CreateTempSubdirectory("oa-readme-demo-").FullName;
        int https = TestAppliance.FreeTcpPort();
        // Ports and directories through the environment (the last configuration layer): the
        // command itself is the README's, byte for byte.
        var start = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Appliance__Listen__Https"] = $"127.0.0.1:{https}";
        start.Environment["Appliance__Listen__Http"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}";
        start.Environment["Appliance__Listen__Internal"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}";
        start.Environment["Appliance__Listen__Admin"] = $"127.0.0.1:{TestAppliance.FreeTcpPort()}";
        start.Environment["Appliance__StateDirectory"] = Path.Combine(scratch, "state");
        start.Environment["Appliance__LogsDirectory"] = Path.Combine(scratch, "logs");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var keyLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.StartsWith("Demo API key: ", StringComparison.Ordinal)) keyLine.TrySetResult(e.Data["Demo API key: ".Length..]);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // dotnet run builds first: generous under a loaded machine.
            var first = await Task.WhenAny(keyLine.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(6)));
            Assert.True(first == keyLine.Task, "no 'Demo API key:' line:\n" + output);
            await using var client = await WsTestClient.ConnectAsync(new Uri($"wss://127.0.0.1:{https}/ws"));
            string reply = await client.AskAsync($$"""{"action": "authenticate", "api_key": "{{await keyLine.Task}}"}""");
            Assert.StartsWith("{\"type\": \"auth\", \"status\": \"success\"", reply);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void The_test_command_installs_nothing_when_every_package_is_there()
    {
        // CI got here through tests/run.sh, so every listed package is installed: the install step
        // must be a no-op — no apt-get, no sudo.
        using var shims = new Shims();
        shims.PassThrough("dpkg-query");
        var (exit, output) = shims.RunPrerequisitesOnly(uid: 0);
        Assert.True(exit == 0, output);
        Assert.Matches(@"test prerequisites: all \d+ apt packages installed", output);
        Assert.Empty(shims.Calls);
    }

    [Fact]
    public void The_test_command_installs_what_is_missing_as_root_or_through_sudo()
    {
        using var shims = new Shims();
        shims.Script("dpkg-query", """[ "$3" = pebble ] && exit 1; echo -n "install ok installed" """);
        var (exit, output) = shims.RunPrerequisitesOnly(uid: 0);
        Assert.True(exit == 0, output);
        Assert.Equal(["apt-get update -qq", "apt-get install -y -qq --no-install-recommends pebble"], shims.Calls);

        shims.Calls.Clear();
        shims.Script("sudo", """echo "sudo $*" >> "$CALLS"; exec "$@" """);
        (exit, output) = shims.RunPrerequisitesOnly(uid: 1000);
        Assert.True(exit == 0, output);
        Assert.Equal(["sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq", "apt-get update -qq",
            "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pebble", "apt-get install -y -qq --no-install-recommends pebble"], shims.Calls);

        shims.Calls.Clear();
        shims.Remove("sudo");
        (exit, output) = shims.RunPrerequisitesOnly(uid: 1000);
        Assert.Equal(1, exit);
        Assert.Contains("pebble missing, and no sudo to install them. Fix: as root, apt-get install -y pebble", output);
        Assert.Empty(shims.Calls);
    }

    /// <summary>
    /// A PATH of stand-ins for the system tools tests/run.sh calls: apt-get and sudo record their
    /// arguments instead of touching the machine, id answers the uid asked for.
    /// </summary>
    private sealed class Shims : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("oa-shims-").FullName;
        private string CallsFile => Path.Combine(_dir, "calls.log");

        public Shims()
        {
            foreach (var tool in new[] { "bash", "env", "dirname", "sed" }) PassThrough(tool);
            // Lines like "npm command:npm" look for the command itself: keep what this machine has.
            if (FindOnPath("npm") is { } npm) File.CreateSymbolicLink(Path.Combine(_dir, "npm"), npm);
            Script("apt-get", """echo "apt-get $*" >> "$CALLS" """);
        }

        public List<string> Calls { get; } = [];

        public void PassThrough(string tool)
        {
            string target = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(_dir, tool), target);
        }

        public void Script(string tool, string body)
        {
            string path = Path.Combine(_dir, tool);
            File.Delete(path);
            File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
        }

        public void Remove(string tool) => File.Delete(Path.Combine(_dir, tool));

        private static string? FindOnPath(string tool) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

        public (int Exit, string Output) RunPrerequisitesOnly(int uid)
        {
            Script("id", $"""[ "$1" = -u ] && echo {uid} """);
            File.Delete(CallsFile);
            var start = new ProcessStartInfo(Path.Combine(Root, "tests/run.sh"), ["--prerequisites-only"])
            {
                WorkingDirectory = Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["PATH"] = _dir;
            start.Environment["CALLS"] = CallsFile;
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (File.Exists(CallsFile)) Calls.AddRange(File.ReadAllLines(CallsFile));
            return (process.ExitCode, output);
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>Tests that build in the checkout itself (dotnet run, dotnet publish) run one at a time: they share obj/.</summary>
[CollectionDefinition(Name)]
public sealed class CheckoutBuilds
{
    public const string Name = "Builds in the checkout";
}
