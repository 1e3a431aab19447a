using System.Reflection;

namespace OpenAlgo.Appliance.Tests.Hosting.Logging;

/// <summary>
/// Every [LoggerMessage] has its own event id: operators filter and alert on them ("stable event
/// ids"), so two messages must never share one. (The authentication throttle's first ids once
/// repeated the ACME issuer's.)
/// </summary>
public sealed class EventIdTests
{
    [Fact]
    public void Every_log_message_has_an_event_id_of_its_own()
    {
        var assembly = typeof(OpenAlgo.Appliance.Configuration.ApplianceOptions).Assembly;
        var messages = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (Id: x.Attribute!.EventId, Where: $"{x.Method.DeclaringType!.FullName}.{x.Method.Name}"))
            .ToList();
        Assert.True(messages.Count > 50, $"only {messages.Count} log messages found");
        var shared = messages.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Where))}").ToList();
        Assert.True(shared.Count == 0, "event ids used twice:\n" + string.Join("\n", shared));
    }
}
