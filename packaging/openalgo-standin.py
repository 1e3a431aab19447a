#!/usr/bin/python3
"""A stand-in for one OpenAlgo instance under gunicorn, for packaging/test-in-systemd.sh's migration
check: installed as VENV/bin/gunicorn and started by a unit laid out like install-multi.sh's, it
serves the web app on gunicorn's --bind unix:PATH and OpenAlgo's WebSocket proxy on
WEBSOCKET_HOST:WEBSOCKET_PORT from the .env in its working directory, as OpenAlgo does (so moving
WEBSOCKET_PORT and restarting moves it). The proxy speaks OpenAlgo's replies (json.dumps shapes)
for authenticate, subscribe, unsubscribe and get_broker_info, and sends an LTP tick for every
subscribed symbol twice a second. Only Debian's python3 and python3-websockets.

    gunicorn --worker-class eventlet -w 1 --bind unix:/path/openalgo.sock --timeout 300 app:app
"""
import asyncio
import json
import os
import sys
import time

import websockets


def read_env(path=".env"):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.strip()
            if value[:1] in "'\"" and value[:1]:
                value = value[1:value.index(value[0], 1)]
            else:
                value = value.split(" #")[0].strip()
            values[key.strip()] = value
    return values


ENV = read_env()
BIND = sys.argv[sys.argv.index("--bind") + 1]
NAME = ENV.get("HOST_SERVER", "https://?").split("//", 1)[1]
KEY = ENV["STANDIN_API_KEY"]
BROKER = ENV.get("STANDIN_BROKER", "fakebroker")
USER = ENV.get("STANDIN_USER", "standin")


async def web(reader, writer):
    """gunicorn's side of nginx's proxy_pass http://unix:…: one request per connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        path = request_line.split(" ")[1] if " " in request_line else "/"
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length:
            await reader.readexactly(length)
        if path.startswith("/auth/session-status"):
            body, kind = json.dumps({"authenticated": False}).encode(), "application/json"
        else:
            body = (f"OpenAlgo stand-in for {NAME} (pid {os.getpid()}); host {headers.get('host', '?')}, "
                    f"forwarded proto {headers.get('x-forwarded-proto', '-')}\n").encode()
            kind = "text/plain"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind.encode() + b"\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def proxy(ws, path=None):
    authed = False
    subscribed = set()

    async def ticks():
        price = 100.0
        while True:
            await asyncio.sleep(0.5)
            price += 0.05
            for symbol, exchange in list(subscribed):
                await ws.send(json.dumps({"type": "market_data", "symbol": symbol, "exchange": exchange, "mode": 1,
                                          "data": {"ltp": round(price, 2), "symbol": symbol, "exchange": exchange, "mode": 1,
                                                   "timestamp": int(time.time() * 1000)}, "broker": BROKER}))

    ticker = asyncio.ensure_future(ticks())
    try:
        async for raw in ws:
            msg = json.loads(raw)
            action = msg.get("action") or msg.get("type")
            if action in ("authenticate", "auth"):
                if msg.get("api_key") != KEY:
                    await ws.send(json.dumps({"status": "error", "code": "AUTHENTICATION_ERROR", "message": "Invalid API key"}))
                    continue
                authed = True
                await ws.send(json.dumps({"type": "auth", "status": "success", "message": "Authentication successful", "broker": BROKER,
                                          "user_id": USER, "supported_features": {"ltp": True, "quote": True, "depth": True}}))
            elif not authed:
                await ws.send(json.dumps({"status": "error", "code": "NOT_AUTHENTICATED", "message": "You must authenticate first"}))
            elif action == "subscribe":
                subs = []
                for e in msg.get("symbols", []):
                    subscribed.add((e["symbol"], e["exchange"]))
                    subs.append({"symbol": e["symbol"], "exchange": e["exchange"], "status": "success", "mode": "LTP", "depth": msg.get("depth", 5), "broker": BROKER})
                await ws.send(json.dumps({"type": "subscribe", "status": "success", "subscriptions": subs, "message": "Subscription processing complete", "broker": BROKER}))
            elif action == "unsubscribe":
                for e in msg.get("symbols", []):
                    subscribed.discard((e["symbol"], e["exchange"]))
                await ws.send(json.dumps({"type": "unsubscribe", "status": "success", "message": "Unsubscription processing complete", "successful": [], "failed": [], "broker": BROKER}))
            elif action == "get_broker_info":
                await ws.send(json.dumps({"type": "broker_info", "status": "success", "broker": BROKER, "adapter_status": "connected", "user_id": USER}))
            else:
                await ws.send(json.dumps({"status": "error", "code": "INVALID_ACTION", "message": f"Invalid action: {action}"}))
    except websockets.ConnectionClosed:
        pass
    finally:
        ticker.cancel()


async def main():
    socket_path = BIND[len("unix:"):]
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    old = os.umask(0)  # gunicorn's default umask: a socket nginx (or the appliance) may open
    server = await asyncio.start_unix_server(web, socket_path)
    os.umask(old)
    host = ENV.get("WEBSOCKET_HOST", "127.0.0.1")
    port = int(ENV.get("WEBSOCKET_PORT", "8765"))
    async with server, websockets.serve(proxy, host, port):
        print(f"stand-in {NAME}: web app on {BIND}, OpenAlgo's proxy on {host}:{port}", flush=True)
        await asyncio.Future()

asyncio.run(main())
