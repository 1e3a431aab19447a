using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.Protocol;

namespace OpenAlgo.Appliance.MarketData.Gateway;

/// <summary>
/// The gateway of sources that publish everything to the hub (the ZeroMQ bus, the simulator): the
/// site's <see cref="IApiKeyAuthenticator"/> judges keys, every subscription stands locally, and the
/// protocol answers broker questions itself.
/// </summary>
internal sealed class AuthenticatorGateway(IApiKeyAuthenticator authenticator) : ISubscriptionGateway
{
    public async ValueTask<KeyVerdict> AuthenticateAsync(string apiKey, CancellationToken cancellationToken)
    {
        var check = await authenticator.CheckAsync(apiKey, cancellationToken);
        return check.Status switch
        {
            ApiKeyCheckStatus.Unavailable => new KeyVerdict(KeyVerdictKind.Unavailable, Message: "API key verification is temporarily unavailable; try again shortly"),
            ApiKeyCheckStatus.InvalidKey => new KeyVerdict(KeyVerdictKind.Invalid, Message: ProtocolErrors.InvalidApiKey),
            _ when check.UserId is null => new KeyVerdict(KeyVerdictKind.Invalid, Message: ProtocolErrors.InvalidApiKey),
            ApiKeyCheckStatus.Valid when check.Broker is not null => new KeyVerdict(KeyVerdictKind.Valid, check.UserId, check.Broker),
            _ => new KeyVerdict(KeyVerdictKind.ValidWithoutBroker, check.UserId),
        };
    }

    public void Attach(ClientSession client, KeyVerdict verdict)
    {
    }

    public void Decline(KeyVerdict verdict)
    {
    }

    public bool ConfirmsSubscriptions => false;

    public ValueTask<SubscriptionConfirmation> ConfirmAsync(ClientSession client, IReadOnlyList<SymbolKey> keys, int mode, PyValue depth, CancellationToken cancellationToken)
        => ValueTask.FromResult(new SubscriptionConfirmation());

    public void SetOrders(ClientSession client, bool subscribed)
    {
    }

    public ValueTask<byte[]?> BrokerInfoAsync(ClientSession client, CancellationToken cancellationToken) => ValueTask.FromResult<byte[]?>(null);

    public ValueTask<byte[]?> SupportedBrokersAsync(CancellationToken cancellationToken) => ValueTask.FromResult<byte[]?>(null);
}
