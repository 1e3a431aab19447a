namespace OpenAlgo.Appliance.Migration.Nginx;

/// <summary>nginx's configuration cannot be read: the message names the file and line as <c>nginx -t</c> would.</summary>
internal sealed class NginxSyntaxException(string file, int line, string problem)
    : MigrationException($"{file}:{line}: {problem}. Fix: correct the file (nginx -t names the same place) or pass the output of 'nginx -T' with --nginx-dump FILE.")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Problem { get; } = problem;
}
