namespace OpenAlgo.Appliance.Migration;

/// <summary>
/// An operator-facing failure of <c>migrate</c> (a syntax error in nginx's files, an unreadable
/// unit, a step that failed): printed as one message naming file, line and fix, never as a stack trace.
/// </summary>
internal class MigrationException(string message) : Exception(message);
