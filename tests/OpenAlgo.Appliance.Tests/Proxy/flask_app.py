"""A stand-in for OpenAlgo's Flask app, as the appliance sees it: Flask + Flask-SocketIO in
eventlet mode (OpenAlgo's gunicorn worker class), a cookie session with a login route and
/auth/session-status, and a few routes that report what arrived.

    /usr/bin/python3 flask_app.py --tcp             # 127.0.0.1, a free port
    /usr/bin/python3 flask_app.py --tcp 5000        # a given port (restart at the same address)
    /usr/bin/python3 flask_app.py --unix PATH       # a unix socket, as gunicorn --bind unix:PATH

Prints "LISTENING <port or path>" once it accepts connections.
"""
import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import eventlet.event  # noqa: E402
import eventlet.wsgi  # noqa: E402
from flask import Flask, Response, request, session  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402

app = Flask(__name__)
app.secret_key = "appliance-test-secret"
# OpenAlgo's app.py: the session cookie is SameSite=Lax, which Chrome sends on same-site requests
# (a sibling subdomain's XHR included) and holds back on cross-site ones.
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
# OpenAlgo's extensions.py: every origin allowed, so any refusal seen in a test is the appliance's.
socketio = SocketIO(app, async_mode="eventlet", cors_allowed_origins="*", logger=False, engineio_logger=False)

stats = {"session_checks": 0, "socketio_origins": {}}
# Which instance this is, when a test runs several (FLASK_APP_NAME): /echo says it.
APP_NAME = os.environ.get("FLASK_APP_NAME", "")
releases = {}
payloads = {}


@app.route("/echo", methods=["GET", "POST"])
def echo():
    body = request.get_data()
    return {
        "app": APP_NAME,
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode(),
        "remote_addr": request.remote_addr,
        "headers": {k: v for k, v in request.headers.items()},
        "body_length": len(body),
    }


@app.route("/page")
def page():
    # Like an app that sets some of its own security headers: the appliance must not add a second.
    response = Response("<!doctype html><title>OpenAlgo</title><p>dashboard</p>", mimetype="text/html")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Strict-Transport-Security"] = "max-age=31536000"
    response.headers["Server"] = "gunicorn/20.1.0"  # what gunicorn announces
    return response


@app.route("/bare")
def bare():
    return Response("<!doctype html><p>bare</p>", mimetype="text/html")


@app.route("/download")
def download():
    size = int(request.args.get("bytes", "1048576"))
    if size not in payloads:
        payloads[size] = b"x" * size
    return Response(payloads[size], mimetype="application/octet-stream")


@app.route("/stream")
def stream():
    key = request.args.get("id", "")
    releases[key] = eventlet.event.Event()

    def generate():
        yield "first\n"
        # Hold the rest until the test says so: the first chunk must reach the client before this.
        with eventlet.Timeout(20, False):
            releases[key].wait()
        yield "second\n"

    return Response(generate(), mimetype="text/plain")


@app.route("/release")
def release():
    releases[request.args.get("id", "")].send(True)
    return "released"


@app.route("/slow")
def slow():
    eventlet.sleep(float(request.args.get("seconds", "5")))
    return "slow"


@app.route("/login", methods=["POST"])
def login():
    session["user"] = request.form.get("user", "tester")
    return {"status": "success"}


@app.route("/auth/session-status")
def session_status():
    stats["session_checks"] += 1
    return {"authenticated": "user" in session}


@app.route("/stats")
def get_stats():
    return stats


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def anything(path):
    return Response("flask:/" + path, mimetype="text/plain")


class SocketIoOrigins:
    """Counts the /socket.io/ requests that reached the app, by Origin header ("" for none): a
    refused origin must never show up here."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            origin = environ.get("HTTP_ORIGIN", "")
            stats["socketio_origins"][origin] = stats["socketio_origins"].get(origin, 0) + 1
        return self.inner(environ, start_response)


app.wsgi_app = SocketIoOrigins(app.wsgi_app)


@socketio.on("connect")
def on_connect():
    # The logged-in user's name, as OpenAlgo's events carry the user's orders: what a page that
    # gets through receives.
    emit("hello", {"msg": "welcome", "transport": request.args.get("transport", ""), "user": session.get("user")})


@socketio.on("echo")
def on_echo(data):
    emit("echo", data)


def main():
    if sys.argv[1] == "--unix":
        path = sys.argv[2]
        if os.path.exists(path):
            os.unlink(path)
        import socket
        listener = eventlet.listen(path, family=socket.AF_UNIX)
        where = path
    else:
        port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
        listener = eventlet.listen(("127.0.0.1", port))
        where = str(listener.getsockname()[1])
    print("LISTENING " + where, flush=True)
    # minimum_chunk_size=0: write each yielded chunk at once, as gunicorn does (eventlet's own
    # server would otherwise gather 4 KiB first and hide whether the proxy streams).
    eventlet.wsgi.server(listener, app, log_output=False, minimum_chunk_size=0)


if __name__ == "__main__":
    main()
