using Microsoft.Extensions.Logging.Abstractions;
using OpenAlgo.Appliance.MarketData.Sources.OpenAlgoProxy;
using OpenAlgo.Appliance.Tests.TestSupport;

namespace OpenAlgo.Appliance.Tests.MarketData.Sources.OpenAlgoProxy;

/// <summary>The connection keeper's liveness, which the watchdog reads through the OpenAlgo source.</summary>
public sealed class ProxyLinkTests
{
    [Fact]
    public async Task A_connected_link_keeps_beating_and_one_whose_setup_hangs_is_reported_stuck()
    {
        await using var origin = await TestAppliance.StartAsync();
        var limit = TimeSpan.FromSeconds(1);

        await using var healthy = new ProxyLink(origin.InternalUri, "key#healthy", TimeProvider.System, NullLogger.Instance, static (_, _, _) => { });
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        healthy.Start((_, _) => Task.FromResult<LinkSetupProblem?>(null), () => connected.TrySetResult(), () => { }, (_, _) => Task.CompletedTask, beat: TimeSpan.FromMilliseconds(200));
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var hang = new TaskCompletionSource<LinkSetupProblem?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var preparing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stuck = new ProxyLink(origin.InternalUri, "key#stuck", TimeProvider.System, NullLogger.Instance, static (_, _, _) => { });
        stuck.Start((_, _) => { preparing.TrySetResult(); return hang.Task; }, () => { }, () => { }, (_, _) => Task.CompletedTask, beat: TimeSpan.FromMilliseconds(200));
        await preparing.Task.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            Assert.True(stuck.IsAlive(limit, limit), "not stuck yet");
            await Task.Delay(limit + TimeSpan.FromMilliseconds(500));
            Assert.True(healthy.IsAlive(limit, limit), "a connected link beats");
            Assert.NotNull(healthy.Current);
            Assert.False(stuck.IsAlive(limit, limit), "a link whose setup hangs stops beating");
            Assert.Null(stuck.Current);
        }
        finally
        {
            hang.SetResult(null);
        }
    }
}
