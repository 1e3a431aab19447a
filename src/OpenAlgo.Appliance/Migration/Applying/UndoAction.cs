namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>
/// One thing that undoes a step, as data: carried out in-process when an <c>--apply</c> fails, and
/// written into <c>rollback.sh</c> for later. File actions come first in a rollback (they change
/// nothing that runs until a restart), service actions after them in reverse order.
/// </summary>
internal abstract record UndoAction
{
    public abstract bool IsFile { get; }
}

/// <summary>Put the backup of a file (or a link) back: content, mode, owner and times (<c>cp -a</c>).</summary>
internal sealed record RestoreFile(string SystemPath, string Backup) : UndoAction
{
    public override bool IsFile => true;
}

/// <summary>Remove a file the migration created.</summary>
internal sealed record RemoveFile(string SystemPath) : UndoAction
{
    public override bool IsFile => true;
}

/// <summary>Run a command (systemctl, snap) to bring a service back to how it was.</summary>
internal sealed record RunCommand(IReadOnlyList<string> Command, string Why) : UndoAction
{
    public override bool IsFile => false;
}

/// <summary>Remove a directory the migration created, if it is empty again.</summary>
internal sealed record RemoveDirectory(string SystemPath) : UndoAction
{
    public override bool IsFile => true;
}
