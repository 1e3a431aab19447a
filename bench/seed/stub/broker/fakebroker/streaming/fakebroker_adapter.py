"""A broker adapter that accepts every subscription and produces nothing itself: the benchmark's
ZeroMQ publisher plays the broker (docs/openalgo-protocol.md §15.2)."""
from websocket_proxy.base_adapter import BaseBrokerWebSocketAdapter


class FakebrokerWebSocketAdapter(BaseBrokerWebSocketAdapter):
    def initialize(self, broker_name, user_id, auth_data=None):
        return {"status": "success"}

    def connect(self):
        self.connected = True
        return {"status": "success"}

    def disconnect(self):
        self.connected = False
        self.cleanup_zmq()

    def subscribe(self, symbol, exchange, mode=2, depth_level=5):
        return self._create_success_response(
            "Subscription requested", symbol=symbol, exchange=exchange, mode=mode,
            requested_depth=depth_level, actual_depth=depth_level, is_fallback=False)

    def unsubscribe(self, symbol, exchange, mode=2):
        return self._create_success_response(f"Unsubscribed from {symbol}.{exchange}")

    def unsubscribe_all(self):
        pass
