"""Runs OpenAlgo's own websocket_proxy/server.py, unmodified, from a checkout of OpenAlgo, with a
stub API-key database and a fake broker adapter (docs/openalgo-protocol.md §15.2: the seed stack
the appliance replaces, as a benchmark reference). Nothing of OpenAlgo is copied here.

    /usr/bin/python3 run_proxy.py <path-to-openalgo-checkout>

The package __init__ (which imports all 29 broker adapters and their SDKs) is skipped by
registering the package first; database.auth_db is a stub that accepts STUB_API_KEY as
STUB_USER on broker STUB_BROKER (the fake adapter in broker/fakebroker next to this file).
Ticks come from whatever publishes to ZMQ_PORT, as OpenAlgo's broker adapters do.
"""
import asyncio
import os
import sys
import types

REPO = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

pkg = types.ModuleType("websocket_proxy")
pkg.__path__ = [os.path.join(REPO, "websocket_proxy")]
sys.modules["websocket_proxy"] = pkg

db = types.ModuleType("database")
db.__path__ = []
sys.modules["database"] = db
auth = types.ModuleType("database.auth_db")
KEYS = {os.getenv("STUB_API_KEY", "benchkey"): os.getenv("STUB_USER", "bench")}
auth.verify_api_key = lambda key: KEYS.get(key)
auth.get_broker_name = lambda key: os.getenv("STUB_BROKER", "fakebroker") if key in KEYS else None
auth.get_auth_token = lambda name, bypass_cache=False: "dummy"
for name in ("auth_cache", "feed_token_cache", "broker_cache", "verified_api_key_cache", "invalid_api_key_cache"):
    setattr(auth, name, {})


class _Query:
    def filter_by(self, **kwargs):
        return self

    def first(self):
        return None


auth.Auth = type("Auth", (), {"query": _Query()})
sys.modules["database.auth_db"] = auth

import websocket_proxy.server as server  # noqa: E402  (after the stubs, on purpose)

asyncio.run(server.main())
