"""A Socket.IO client as OpenAlgo's pages run one (python3-socketio, reconnection on), connected
through the appliance after logging in, and left running: it prints one JSON line per event, with the wall clock,
until it is killed.

    socketio_reconnecting_client.py BASE_URL TRANSPORT ORIGIN

ORIGIN is the page's origin, sent as a browser sends it (the appliance refuses foreign origins).

Events: {"event": "connect"|"disconnect"|"hello"|"echo"|"connect_error", "t": UNIX_SECONDS}. After
every hello it emits "echo" (the app echoes it back), so a line "echo" proves the connection carries
messages both ways.
"""
import json
import sys
import threading
import time

import requests
import socketio
import urllib3
import websocket

urllib3.disable_warnings()
base, transport, origin = sys.argv[1], sys.argv[2], sys.argv[3]

# A browser sends exactly one Origin; websocket-client adds its own unless told not to.
_create = websocket.create_connection


def create(url, **kw):
    kw["suppress_origin"] = True
    return _create(url, **kw)


websocket.create_connection = create


_out = threading.Lock()


def say(event, **fields):
    # Events come from the client's threads: one whole line at a time (print() writes the text and
    # the newline separately, and two threads' lines were seen run together).
    line = json.dumps(dict(event=event, t=time.time(), **fields)) + "\n"
    with _out:
        sys.stdout.write(line)
        sys.stdout.flush()


http = requests.Session()
http.verify = False
http.trust_env = False
# A logged-in user's page: the appliance lets /socket.io/ through only with a session (Proxy:RequireSessionForSocketIo).
http.post(base + "/login", data={"user": "tester"}).raise_for_status()
client = socketio.Client(http_session=http, ssl_verify=False, reconnection=True, reconnection_attempts=0,
                         reconnection_delay=0.2, reconnection_delay_max=1, randomization_factor=0)


@client.event
def connect():
    say("connect", transport=client.transport())


@client.event
def disconnect(*_):
    say("disconnect")


@client.event
def connect_error(data):
    say("connect_error", error=str(data))


def send_echo():
    # The server's hello can arrive before the client marks the namespace connected: retry briefly.
    for _ in range(50):
        try:
            client.emit("echo", {"n": "ping"})
            return
        except socketio.exceptions.BadNamespaceError:
            time.sleep(0.02)


@client.on("hello")
def on_hello(data):
    say("hello")
    client.start_background_task(send_echo)


@client.on("echo")
def on_echo(data):
    say("echo")


while True:
    try:
        client.connect(base, headers={"Origin": origin}, transports=[transport], wait_timeout=30)
        break
    except socketio.exceptions.ConnectionError as e:
        say("connect_error", error=str(e))
        time.sleep(0.5)
client.wait()
while True:
    time.sleep(3600)
