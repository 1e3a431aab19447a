"""A stand-in for OpenAlgo's WebSocket proxy reduced to what spec §6.5 describes and no appliance can
play: a per-user broker adapter that cache invalidation deletes while the routing index keeps the
connection subscribed. OpenAlgo's real proxy needs broker accounts to run, so this is the one
behaviour emulated here; replies use OpenAlgo's shapes and json.dumps.

usage: /usr/bin/python3 adapter_eviction_proxy.py PORT    (prints "LISTENING <port>")
Control messages (from the test, on their own connection): {"control": "tick", "symbol", "exchange", "ltp"}
publishes an LTP tick as the adapter would (only if the adapter holds the symbol), {"control": "evict"}
deletes the adapter (cache invalidation), {"control": "stats"} answers counters.
"""
import asyncio, json, sys, time
import websockets

state = {"adapter": None, "routing": {}, "auths": 0, "subscribes": 0, "evictions": 0}   # adapter: set of (symbol, exchange) or None


async def handler(ws, path=None):
    authed = False
    try:
        async for raw in ws:
            msg = json.loads(raw)
            if "control" in msg:
                await control(ws, msg)
                continue
            action = msg.get("action") or msg.get("type")
            if action in ("authenticate", "auth"):
                if msg.get("api_key") != "testkey":
                    await ws.send(json.dumps({"status": "error", "code": "AUTHENTICATION_ERROR", "message": "Invalid API key"}))
                    continue
                authed = True
                state["auths"] += 1
                if state["adapter"] is None:
                    state["adapter"] = set()
                await ws.send(json.dumps({"type": "auth", "status": "success", "message": "Authentication successful", "broker": "fakebroker",
                                          "user_id": "testuser", "supported_features": {"ltp": True, "quote": True, "depth": True}}))
            elif action == "subscribe":
                state["subscribes"] += 1
                subs = []
                for e in msg["symbols"]:
                    key = (e["symbol"], e["exchange"])
                    state["routing"].setdefault(key, set()).add(ws)
                    if state["adapter"] is None:
                        await ws.send(json.dumps({"status": "error", "code": "BROKER_ERROR", "message": "Broker adapter not found"}))
                        break
                    state["adapter"].add(key)
                    subs.append({"symbol": e["symbol"], "exchange": e["exchange"], "status": "success", "mode": "LTP", "depth": msg.get("depth", 5), "broker": "fakebroker"})
                else:
                    await ws.send(json.dumps({"type": "subscribe", "status": "success", "subscriptions": subs, "message": "Subscription processing complete", "broker": "fakebroker"}))
            elif action == "unsubscribe":
                for e in msg.get("symbols", []):
                    state["routing"].get((e["symbol"], e["exchange"]), set()).discard(ws)
                await ws.send(json.dumps({"type": "unsubscribe", "status": "success", "message": "Unsubscription processing complete", "successful": [], "failed": [], "broker": "fakebroker"}))
            elif action == "get_broker_info":
                await ws.send(json.dumps({"type": "broker_info", "status": "success", "broker": "fakebroker",
                                          "adapter_status": "connected" if state["adapter"] is not None else "disconnected", "user_id": "testuser"}))
            else:
                await ws.send(json.dumps({"status": "error", "code": "INVALID_ACTION", "message": f"Invalid action: {action}"}))
    except websockets.ConnectionClosed:
        pass
    finally:
        for subscribers in state["routing"].values():
            subscribers.discard(ws)


async def control(ws, msg):
    if msg["control"] == "tick":
        key = (msg["symbol"], msg["exchange"])
        if state["adapter"] is not None and key in state["adapter"]:
            tick = {"type": "market_data", "symbol": msg["symbol"], "exchange": msg["exchange"], "mode": 1,
                    "data": {"ltp": msg["ltp"], "timestamp": int(time.time() * 1000)}, "broker": "fakebroker"}
            for subscriber in list(state["routing"].get(key, ())):
                await subscriber.send(json.dumps(tick))
        await ws.send(json.dumps({"ok": True}))
    elif msg["control"] == "evict":
        state["adapter"] = None          # routing is kept, as in OpenAlgo
        state["evictions"] += 1
        await ws.send(json.dumps({"ok": True}))
    elif msg["control"] == "stats":
        await ws.send(json.dumps({"auths": state["auths"], "subscribes": state["subscribes"], "evictions": state["evictions"],
                                  "adapter": state["adapter"] is not None}))


async def main():
    async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1])) as server:
        print("LISTENING", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

asyncio.run(main())
