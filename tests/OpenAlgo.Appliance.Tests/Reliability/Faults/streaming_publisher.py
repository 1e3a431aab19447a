"""A broker adapter's ZeroMQ publisher (pyzmq on libzmq: PUB, connect, as OpenAlgo's) that streams
numbered ticks until it is killed.

    streaming_publisher.py ENDPOINT TOPIC FIRST_SEQ RATE

Sends {"ltp": ..., "seq": N, "ts": UNIX_SECONDS} on TOPIC, N from FIRST_SEQ, RATE per second
("ts": the wall clock at send, for latency); prints "ready" once connected. Never exits by itself: the test kills it (SIGKILL) mid-stream.
"""
import sys
import time

import zmq

endpoint, topic, first, rate = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), float(sys.argv[4])
context = zmq.Context()
publisher = context.socket(zmq.PUB)
publisher.setsockopt(zmq.LINGER, 1000)
publisher.setsockopt(zmq.SNDHWM, 1000)
publisher.connect(endpoint)
print("ready", flush=True)
seq = first
start = time.monotonic()
while True:
    publisher.send_multipart([topic, ('{"ltp": %d.5, "seq": %d, "ts": %.6f}' % (seq % 1000, seq, time.time())).encode()])
    seq += 1
    delay = start + (seq - first) / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
