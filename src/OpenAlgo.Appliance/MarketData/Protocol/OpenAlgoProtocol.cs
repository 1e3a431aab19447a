using OpenAlgo.Appliance.Auth;
using OpenAlgo.Appliance.MarketData.Gateway;
using OpenAlgo.Appliance.MarketData.Hub;
using OpenAlgo.Appliance.MarketData.WebSockets;
using OpenAlgo.Appliance.Security;

namespace OpenAlgo.Appliance.MarketData.Protocol;

/// <summary>
/// OpenAlgo's client protocol (<c>process_client_message</c> and its handlers, spec §4), with its
/// dispatch rules, check order, reply shapes and error texts reproduced exactly. One instance
/// serves every connection of a site; per-connection state lives in <see cref="ClientSession"/>.
/// Keys and subscriptions are judged by the site's <see cref="ISubscriptionGateway"/>: locally, or
/// by OpenAlgo's proxy whose replies reach the client byte for byte.
/// </summary>
internal sealed partial class OpenAlgoProtocol(
    MarketDataHub hub,
    ISubscriptionGateway gateway,
    TimeProvider time,
    ILogger<OpenAlgoProtocol> logger,
    IReadOnlyList<string> supportedBrokers,
    AuthThrottle throttle)
{
    private static readonly PyDict SupportedFeatures = new PyDict().Set("ltp", true).Set("quote", true).Set("depth", true);

    /// <summary>Handles one client message (text or binary frame), fully, before the next is read.</summary>
    public async ValueTask HandleAsync(ClientSession session, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var limits = hub.Limits;
        if (!session.TryTakeMessageToken(limits.MaxMessagesPerSecond, limits.MessageBurst))
        {
            SendError(session, ProtocolErrors.RateLimited, $"Too many messages: at most {limits.MaxMessagesPerSecond:0.##} per second per connection");
            return;
        }

        PyValue data;
        try
        {
            data = PyJsonReader.Parse(message.Span, limits.MaxKeysPerObject, limits.MaxSymbolsPerMessage);
        }
        catch (PyJsonDepthException deep)
        {
            // CPython's RecursionError escapes json.loads' JSONDecodeError handler: SERVER_ERROR, its text.
            SendError(session, ProtocolErrors.ServerError, deep.Message);
            return;
        }
        catch (PyJsonKeyLimitException tooMany)
        {
            SendError(session, ProtocolErrors.LimitExceeded, $"Too many keys in one JSON object: at most {tooMany.Limit}");
            return;
        }
        catch (PyJsonItemLimitException tooMany)
        {
            // Checked on every array as it is read: in OpenAlgo's protocol only symbols lists grow long,
            // and a 10,000-symbol list is refused after 3,001 items instead of being built whole.
            SendError(session, ProtocolErrors.LimitExceeded, $"Too many symbols in one message: at most {tooMany.Limit} per message");
            return;
        }
        catch (PyJsonException)
        {
            SendError(session, ProtocolErrors.InvalidJson, ProtocolErrors.InvalidJsonMessage);
            return;
        }

        try
        {
            await DispatchAsync(session, data, cancellationToken);
        }
        catch (PythonError error)
        {
            SendError(session, ProtocolErrors.ServerError, error.Message);
        }
    }

    private async ValueTask DispatchAsync(ClientSession session, PyValue data, CancellationToken cancellationToken)
    {
        if (data is not PyDict message) throw PythonError.NoAttribute(data, "get");

        // action = data.get("action") or data.get("type")
        var actionValue = message.Get("action");
        PyValue action = actionValue is { IsTruthy: true } ? actionValue : message.Get("type") ?? PyNull.Instance;
        string? name = (action as PyStr)?.Value;
        switch (name)
        {
            case "authenticate" or "auth":
                await AuthenticateAsync(session, message, cancellationToken);
                break;
            case "subscribe":
                await SubscribeAsync(session, message, cancellationToken);
                break;
            case "unsubscribe" or "unsubscribe_all":
                Unsubscribe(session, message);
                break;
            case "subscribe_orders" or "unsubscribe_orders":
                OrderSubscription(session, message, name == "subscribe_orders");
                break;
            case "get_broker_info":
                await BrokerInfoAsync(session, cancellationToken);
                break;
            case "get_supported_brokers":
                await SupportedBrokersReplyAsync(session, cancellationToken);
                break;
            case "ping":
                Pong(session, message);
                break;
            default:
                SendError(session, ProtocolErrors.InvalidAction, $"Invalid action: {action.Str()}");
                break;
        }
    }

    private async ValueTask AuthenticateAsync(ClientSession session, PyDict message, CancellationToken cancellationToken)
    {
        var keyValue = message.Get("api_key");
        if (keyValue is not { IsTruthy: true }) keyValue = message.Get("apikey");
        if (keyValue is not { IsTruthy: true })
        {
            SendError(session, ProtocolErrors.AuthenticationError, ProtocolErrors.ApiKeyRequired);
            return;
        }
        // OpenAlgo hashes api_key.encode(): a number or list fails exactly like this.
        if (keyValue is not PyStr key) throw PythonError.NoAttribute(keyValue, "encode");

        string fingerprint = ApiKeyFingerprint.Of(key.Value);
        var verdict = await gateway.AuthenticateAsync(key.Value, cancellationToken);
        switch (verdict.Kind)
        {
            case KeyVerdictKind.Unavailable:
                SendError(session, ProtocolErrors.ServerError, verdict.Message);
                if (verdict.CloseUnauthenticated && !session.IsAuthenticated)
                {
                    // Without the upstream there is nothing to serve: closing (1013, try again later)
                    // puts the SDK into its reconnect loop, as a refused connection to OpenAlgo would have.
                    Log.Unavailable(logger, session.Id, verdict.Message);
                    session.Close(WebSocketCloseCodes.TryAgainLater, "market data upstream unavailable");
                }
                return;
            case KeyVerdictKind.Invalid:
                hub.Counters.AuthFailed();
                // Security:AuthThrottle: past a few failures from this address the refusal waits
                // (the connection reads nothing meanwhile); OpenAlgo's exact envelope when it goes.
                var hold = throttle.Failed(session.RemoteAddress);
                if (hold > TimeSpan.Zero)
                {
                    Log.RefusalHeld(logger, session.Id, hold.TotalSeconds);
                    try
                    {
                        await Task.Delay(hold, time, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                if (verdict.Reply is { } refusal)
                {
                    if (hold == TimeSpan.Zero) Log.UpstreamRefused(logger, session.Id, fingerprint, verdict.Message);
                    SendRaw(session, refusal);
                }
                else
                {
                    if (hold == TimeSpan.Zero) Log.InvalidKey(logger, session.Id, fingerprint);
                    SendError(session, ProtocolErrors.AuthenticationError, ProtocolErrors.InvalidApiKey);
                }
                return;
        }

        // A valid key without a broker still authenticates the connection (OpenAlgo §4.4 step 3);
        // an upstream's BROKER_* reply says nothing of the user, so the key's fingerprint stands in.
        string userId = verdict.UserId ?? session.UserId ?? fingerprint;
        string? broker = verdict.Broker;
        if (hub.Authorize(session, userId, broker) is null)
        {
            gateway.Decline(verdict);
            Log.UserLimit(logger, session.Id, userId, hub.Limits.MaxClientsPerUser);
            SendError(session, ProtocolErrors.LimitExceeded, $"Too many connections for user {userId}: at most {hub.Limits.MaxClientsPerUser}");
            return;
        }
        KeyValuePair<SymbolKey, byte>[] carried = [];
        if (verdict.Scope != session.Scope && session.Subscriptions.Count > 0)
        {
            // Re-authentication onto another feed partition (another key's upstream session): what the
            // client held there is given up, and carried over to the new one below.
            carried = session.Subscriptions.ToArray();
            foreach (var (held, modes) in carried) hub.Release(session, held, modes);
        }
        gateway.Attach(session, verdict);
        if (verdict.Kind == KeyVerdictKind.Valid) Log.Authenticated(logger, session.Id, userId, broker ?? "", fingerprint);
        if (verdict.Reply is { } reply)
        {
            SendRaw(session, reply);
        }
        else if (broker is null)
        {
            SendError(session, ProtocolErrors.BrokerError, ProtocolErrors.NoBrokerConfiguration);
            return;
        }
        else
        {
            Send(session, new PyDict()
                .Set("type", "auth")
                .Set("status", "success")
                .Set("message", "Authentication successful")
                .Set("broker", broker)
                .Set("user_id", userId)
                .Set("supported_features", SupportedFeatures));
        }
        // OpenAlgo keeps a re-authenticated socket's subscriptions routed (spec §6.4).
        if (carried.Length > 0 && broker is not null) await CarryOverAsync(session, carried, cancellationToken);
    }

    /// <summary>Subscribes <paramref name="carried"/> (old-scope keys) again in the client's new scope, mode by mode.</summary>
    private async ValueTask CarryOverAsync(ClientSession session, KeyValuePair<SymbolKey, byte>[] carried, CancellationToken cancellationToken)
    {
        for (int mode = 1; mode <= 3; mode++)
        {
            byte bit = ModeTags.Bit(mode);
            var reserved = new List<(int Index, SymbolKey Key)>();
            foreach (var (old, modes) in carried)
            {
                if ((modes & bit) == 0) continue;
                var key = new SymbolKey(old.Exchange, old.Symbol, session.Scope);
                if (hub.Reserve(session, key, bit) is null) reserved.Add((-1, key));
            }
            if (reserved.Count == 0) continue;
            // No ack to write: what the upstream refuses is simply given back.
            await ConfirmAsync(session, reserved, mode, new PyInt(5), new PyList(), cancellationToken);
            foreach (var (_, key) in reserved) hub.Route(session, key);
        }
    }

    private async ValueTask SubscribeAsync(ClientSession session, PyDict message, CancellationToken cancellationToken)
    {
        if (!RequireAuthentication(session)) return;
        int? mode = ModeParser.Parse(message.Get("mode") ?? new PyStr("Quote"), out string? modeError);
        if (mode is null)
        {
            SendError(session, ProtocolErrors.InvalidMode, modeError!);
            return;
        }
        PyValue depth = message.Get("depth") ?? new PyInt(5);

        IEnumerable<PyValue> entries;
        var symbols = message.Get("symbols");
        if (symbols is { IsTruthy: true })
        {
            entries = Iterate(symbols);
        }
        else if (message.Get("symbol") is { IsTruthy: true } symbol && message.Get("exchange") is { IsTruthy: true } exchange)
        {
            entries = [new PyDict().Set("symbol", symbol).Set("exchange", exchange)];
        }
        else
        {
            SendError(session, ProtocolErrors.InvalidParameters, ProtocolErrors.NoSymbols);
            return;
        }
        string? broker = session.Broker;
        if (broker is null)
        {
            SendError(session, ProtocolErrors.BrokerError, ProtocolErrors.AdapterNotFound);
            return;
        }

        var results = new PyList();
        var routed = new List<SymbolKey>();
        // Entries whose mode is new for this client, by position in results: the upstream may refuse them.
        var added = new List<(int Index, SymbolKey Key)>();
        bool anyFailed = false;
        byte bit = ModeTags.Bit(mode.Value);
        try
        {
            foreach (var item in entries)
            {
                if (item is not PyDict entry) throw PythonError.NoAttribute(item, "get");
                var symbolValue = entry.Get("symbol");
                var exchangeValue = entry.Get("exchange");
                if (symbolValue is not { IsTruthy: true } || exchangeValue is not { IsTruthy: true }) continue;

                var key = new SymbolKey(exchangeValue.Str(), symbolValue.Str(), session.Scope);
                bool isNew = (session.Subscriptions.GetValueOrDefault(key) & bit) == 0;
                string? refusal = hub.Reserve(session, key, bit);
                if (refusal is null)
                {
                    routed.Add(key);
                    if (isNew) added.Add((results.Items.Count, key));
                    results.Items.Add(new PyDict()
                        .Set("symbol", symbolValue)
                        .Set("exchange", exchangeValue)
                        .Set("status", "success")
                        .Set("mode", ModeTags.Label(mode.Value))
                        .Set("depth", depth)
                        .Set("broker", broker));
                }
                else
                {
                    anyFailed = true;
                    results.Items.Add(new PyDict()
                        .Set("symbol", symbolValue)
                        .Set("exchange", exchangeValue)
                        .Set("status", "error")
                        .Set("message", refusal)
                        .Set("broker", broker));
                }
            }
        }
        catch (PythonError)
        {
            // OpenAlgo aborts mid-loop: entries before the bad one stay subscribed, without an ack.
            if (added.Count > 0) await ConfirmAsync(session, added, mode.Value, depth, new PyList(), cancellationToken);
            foreach (var key in routed) hub.Route(session, key);
            throw;
        }

        if (added.Count > 0 && await ConfirmAsync(session, added, mode.Value, depth, results, cancellationToken) is { } outcome)
        {
            if (outcome.Envelope is { } envelope)
            {
                SendRaw(session, envelope);
                return;
            }
            anyFailed |= outcome.Refused.Count > 0;
        }

        var reply = new PyDict()
            .Set("type", "subscribe")
            .Set("status", anyFailed ? "partial" : "success")
            .Set("subscriptions", results)
            .Set("message", "Subscription processing complete")
            .Set("broker", broker);
        EchoRequestId(message, reply);
        Send(session, reply);
        // Routed after the ack is queued, so the first tick never arrives before the ack.
        foreach (var key in routed) hub.Route(session, key);
    }

    /// <summary>
    /// A gateway that confirms subscriptions (OpenAlgo's proxy) subscribes what it does not stream
    /// yet, and its per-symbol answers replace ours in <paramref name="results"/> (its depth, its error
    /// texts); what it refused is given back. On a whole-request error nothing stays reserved.
    /// Null when the gateway confirms nothing: every reservation stands.
    /// </summary>
    private async ValueTask<SubscriptionConfirmation?> ConfirmAsync(ClientSession session, List<(int Index, SymbolKey Key)> added, int mode, PyValue depth, PyList results, CancellationToken cancellationToken)
    {
        if (!gateway.ConfirmsSubscriptions) return null;
        byte bit = ModeTags.Bit(mode);
        var keys = added.Select(a => a.Key.Unscoped).Distinct().ToList();
        var outcome = await gateway.ConfirmAsync(session, keys, mode, depth, cancellationToken);
        foreach (var (index, key) in added)
        {
            if (outcome.Envelope is not null || outcome.Refused.ContainsKey(key.Unscoped))
            {
                hub.Release(session, key, bit, notify: false);
                if (outcome.Envelope is null && index >= 0 && index < results.Items.Count) results.Items[index] = outcome.Refused[key.Unscoped];
            }
            else if (outcome.Accepted.TryGetValue(key.Unscoped, out var accepted) && index >= 0 && index < results.Items.Count)
            {
                results.Items[index] = accepted;
            }
        }
        return outcome;
    }

    private void Unsubscribe(ClientSession session, PyDict message)
    {
        if (!RequireAuthentication(session)) return;
        string? broker = session.Broker;
        var successful = new PyList();
        var failed = new PyList();

        bool all = IsString(message.Get("type"), "unsubscribe_all") || IsString(message.Get("action"), "unsubscribe_all");
        if (all)
        {
            if (broker is null)
            {
                SendError(session, ProtocolErrors.BrokerError, ProtocolErrors.AdapterNotFound);
                return;
            }
            foreach (var (key, modes) in session.Subscriptions.ToArray())
            {
                for (int mode = 1; mode <= 3; mode++)
                {
                    if ((modes & ModeTags.Bit(mode)) == 0) continue;
                    hub.Release(session, key, ModeTags.Bit(mode));
                    successful.Items.Add(SuccessEntry(new PyStr(key.Symbol), new PyStr(key.Exchange), broker));
                }
            }
        }
        else
        {
            var symbols = message.Get("symbols");
            if (symbols is { IsTruthy: true })
            {
                if (broker is null)
                {
                    SendError(session, ProtocolErrors.BrokerError, ProtocolErrors.AdapterNotFound);
                    return;
                }
                foreach (var item in Iterate(symbols))
                {
                    if (item is not PyDict entry) throw PythonError.NoAttribute(item, "get");
                    // List form: each entry's own mode (default 2); a top-level mode is ignored (spec §4.6).
                    int? mode = ModeParser.Parse(entry.Get("mode") ?? new PyInt(2), out string? modeError);
                    var symbolValue = entry.Get("symbol");
                    var exchangeValue = entry.Get("exchange");
                    if (mode is null)
                    {
                        failed.Items.Add(new PyDict()
                            .Set("symbol", symbolValue ?? PyNull.Instance)
                            .Set("exchange", exchangeValue ?? PyNull.Instance)
                            .Set("status", "error")
                            .Set("message", modeError!)
                            .Set("broker", broker));
                        continue;
                    }
                    if (symbolValue is not { IsTruthy: true } || exchangeValue is not { IsTruthy: true }) continue;
                    hub.Release(session, new SymbolKey(exchangeValue.Str(), symbolValue.Str(), session.Scope), ModeTags.Bit(mode.Value));
                    successful.Items.Add(SuccessEntry(symbolValue, exchangeValue, broker));
                }
            }
            else if (message.Get("symbol") is { IsTruthy: true } symbol && message.Get("exchange") is { IsTruthy: true } exchange)
            {
                int? mode = ModeParser.Parse(message.Get("mode") ?? new PyInt(2), out string? modeError);
                if (mode is null)
                {
                    SendError(session, ProtocolErrors.InvalidMode, modeError!);
                    return;
                }
                if (broker is null)
                {
                    SendError(session, ProtocolErrors.BrokerError, ProtocolErrors.AdapterNotFound);
                    return;
                }
                hub.Release(session, new SymbolKey(exchange.Str(), symbol.Str(), session.Scope), ModeTags.Bit(mode.Value));
                successful.Items.Add(SuccessEntry(symbol, exchange, broker));
            }
            else
            {
                SendError(session, ProtocolErrors.InvalidParameters, ProtocolErrors.NothingToUnsubscribe);
                return;
            }
        }

        string status = successful.Items.Count > 0 && failed.Items.Count > 0 ? "partial"
            : failed.Items.Count > 0 ? "error"
            : "success";
        var reply = new PyDict()
            .Set("type", "unsubscribe")
            .Set("status", status)
            .Set("message", "Unsubscription processing complete")
            .Set("successful", successful)
            .Set("failed", failed)
            .Set("broker", broker is null ? PyNull.Instance : new PyStr(broker));
        EchoRequestId(message, reply);
        Send(session, reply);

        static PyDict SuccessEntry(PyValue symbol, PyValue exchange, string? broker) => new PyDict()
            .Set("symbol", symbol)
            .Set("exchange", exchange)
            .Set("status", "success")
            .Set("broker", broker is null ? PyNull.Instance : new PyStr(broker));
    }

    private void OrderSubscription(ClientSession session, PyDict message, bool subscribe)
    {
        if (!RequireAuthentication(session)) return;
        hub.SetOrderSubscription(session, subscribe);
        gateway.SetOrders(session, subscribe);
        var reply = new PyDict()
            .Set("type", subscribe ? "subscribe_orders" : "unsubscribe_orders")
            .Set("status", "success")
            .Set("message", subscribe ? "Subscribed to order updates" : "Unsubscribed from order updates");
        EchoRequestId(message, reply);
        Send(session, reply);
    }

    private async ValueTask BrokerInfoAsync(ClientSession session, CancellationToken cancellationToken)
    {
        if (!RequireAuthentication(session)) return;
        // Source=OpenAlgo: the adapter lives upstream, so its state (adapter_status) is OpenAlgo's to say.
        if (await gateway.BrokerInfoAsync(session, cancellationToken) is { } relayed)
        {
            SendRaw(session, relayed);
            return;
        }
        string? broker = session.Broker;
        if (broker is null)
        {
            SendError(session, ProtocolErrors.BrokerError, ProtocolErrors.BrokerInfoUnavailable);
            return;
        }
        Send(session, new PyDict()
            .Set("type", "broker_info")
            .Set("status", "success")
            .Set("broker", broker)
            .Set("adapter_status", "connected")
            .Set("user_id", session.UserId!));
    }

    private async ValueTask SupportedBrokersReplyAsync(ClientSession session, CancellationToken cancellationToken)
    {
        // Source=OpenAlgo with no VALID_BROKERS of our own: OpenAlgo's proxy has the list.
        if (supportedBrokers.Count == 0 && await gateway.SupportedBrokersAsync(cancellationToken) is { } relayed)
        {
            SendRaw(session, relayed);
            return;
        }
        var list = new PyList(supportedBrokers.Select(b => (PyValue)new PyStr(b)).ToList());
        Send(session, new PyDict()
            .Set("type", "supported_brokers")
            .Set("status", "success")
            .Set("brokers", list)
            .Set("count", list.Items.Count));
    }

    private void Pong(ClientSession session, PyDict message)
    {
        var reply = new PyDict()
            .Set("type", "pong")
            .Set("status", "success")
            .Set("server_timestamp", time.GetUtcNow().ToUnixTimeMilliseconds());
        if (message.Get("timestamp") is { } timestamp and not PyNull) reply.Set("client_timestamp", timestamp);
        if (message.Get("_pingId") is { } pingId and not PyNull) reply.Set("_pingId", pingId);
        Send(session, reply);
    }

    private bool RequireAuthentication(ClientSession session)
    {
        if (session.IsAuthenticated) return true;
        SendError(session, ProtocolErrors.NotAuthenticated, ProtocolErrors.MustAuthenticate);
        return false;
    }

    private static void EchoRequestId(PyDict message, PyDict reply)
    {
        if (message.Get("request_id") is { } requestId and not PyNull) reply.Set("request_id", requestId);
    }

    private static bool IsString(PyValue? value, string expected) => value is PyStr s && s.Value == expected;

    /// <summary>
    /// Python's <c>for x in value</c>. Lazy for strings and dicts: their first item is never a dict,
    /// so the loop stops there, and a 1 MiB string must not become a million objects first.
    /// </summary>
    private static IEnumerable<PyValue> Iterate(PyValue value) => value switch
    {
        PyList list => list.Items.ToArray(),
        PyStr text => text.Value.Select(c => (PyValue)new PyStr(c.ToString())),
        PyDict dict => dict.Items.Select(kv => (PyValue)new PyStr(kv.Key)),
        _ => throw PythonError.NotIterable(value),
    };

    internal static void SendError(ClientSession session, string code, string message)
    {
        Send(session, ErrorEnvelope(code, message));
    }

    private static PyDict ErrorEnvelope(string code, string message) => new PyDict().Set("status", "error").Set("code", code).Set("message", message);

    /// <summary>Relays a message exactly as OpenAlgo's proxy wrote it.</summary>
    private static void SendRaw(ClientSession session, byte[] json)
    {
        session.Outbox.EnqueueControl(WebSocketFrames.Text(json));
    }

    internal static void Send(ClientSession session, PyDict reply)
    {
        session.Outbox.EnqueueControl(ReplyFrame.Text(reply));
    }

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Information, "Client {ClientId} authenticated as {UserId} (broker {Broker}, {KeyFingerprint})")]
        public static partial void Authenticated(ILogger logger, long clientId, string userId, string broker, string keyFingerprint);

        [LoggerMessage(1102, LogLevel.Warning, "Client {ClientId} presented an invalid API key ({KeyFingerprint})")]
        public static partial void InvalidKey(ILogger logger, long clientId, string keyFingerprint);

        [LoggerMessage(1104, LogLevel.Warning, "Client {ClientId}: OpenAlgo's proxy refused API key {KeyFingerprint}: {Message}")]
        public static partial void UpstreamRefused(ILogger logger, long clientId, string keyFingerprint, string message);

        [LoggerMessage(1106, LogLevel.Debug, "Client {ClientId} presented a key that was refused; the refusal is held {Seconds} s (Security:AuthThrottle)")]
        public static partial void RefusalHeld(ILogger logger, long clientId, double seconds);

        [LoggerMessage(1105, LogLevel.Warning, "Client {ClientId} could not authenticate: {Message}")]
        public static partial void Unavailable(ILogger logger, long clientId, string message);

        [LoggerMessage(1103, LogLevel.Warning, "Client {ClientId} refused: user {UserId} already has {Limit} connections (Limits:MaxClientsPerUser)")]
        public static partial void UserLimit(ILogger logger, long clientId, string userId, int limit);
    }
}
