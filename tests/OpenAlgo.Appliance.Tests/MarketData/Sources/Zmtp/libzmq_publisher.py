"""A ZeroMQ publisher as OpenAlgo's broker adapters run it (pyzmq on libzmq: PUB, connect,
LINGER 1000, SNDHWM 1000 — websocket_proxy/connection_manager.py's SharedZmqPublisher), or through
a forwarder (docs/scaling.md, B1: XSUB bound for the publishers, XPUB connecting to the bus).

    libzmq_publisher.py ENDPOINT [--forwarder]

Publishes every line of stdin ("TOPIC PAYLOAD") again every 0.1 s until stdin closes: ZeroMQ drops what
a PUB sends before the subscription has arrived (slow joiner), so the test reads until it sees one.
"""
import select
import sys
import threading

import zmq

endpoint = sys.argv[1]
context = zmq.Context()
if "--forwarder" in sys.argv:
    xsub = context.socket(zmq.XSUB)
    port = xsub.bind_to_random_port("tcp://127.0.0.1")
    xpub = context.socket(zmq.XPUB)
    xpub.connect(endpoint)
    threading.Thread(target=zmq.proxy, args=(xsub, xpub), daemon=True).start()
    endpoint = f"tcp://127.0.0.1:{port}"
publisher = context.socket(zmq.PUB)
publisher.setsockopt(zmq.LINGER, 1000)
publisher.setsockopt(zmq.SNDHWM, 1000)
publisher.connect(endpoint)
print("ready", flush=True)

messages = []
while True:
    readable, _, _ = select.select([sys.stdin], [], [], 0.1)
    if readable:
        line = sys.stdin.readline()
        if not line:
            break
        topic, payload = line.rstrip("\n").split(" ", 1)
        messages.append([topic.encode(), payload.encode()])
    for message in messages:
        publisher.send_multipart(message)
publisher.close()
context.term()
