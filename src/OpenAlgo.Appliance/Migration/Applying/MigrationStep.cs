namespace OpenAlgo.Appliance.Migration.Applying;

/// <summary>One step of <c>--apply</c>: what the plan prints, and what it does (recording its undo first).</summary>
internal abstract class MigrationStep
{
    /// <summary>One line for the plan and the progress output.</summary>
    public abstract string Description { get; }

    /// <summary>Commands the step runs, shown under the line (systemctl …).</summary>
    public virtual IEnumerable<string> Commands => [];

    public abstract void Run(ApplyContext context);
}
