#!/usr/bin/python3
"""Soak: an origin that keeps restarting behind a MarketData:Source=OpenAlgo front. Driven by bench/upstream/soak.sh.

usage: /usr/bin/python3 bench/upstream/soak.py run --binary PATH [--duration 600] [--interval 60] [--out DIR] [options]
       /usr/bin/python3 bench/upstream/soak.py publish ...   (internal: the ZeroMQ publisher, a child process)

Topology (all on 127.0.0.1, free ports picked at start):

  publisher (child process, pyzmq PUB) --ZMQ--> origin (Source=Zmq, StaticKeys A and B)
      <-- one WebSocket per API key -- front (Source=OpenAlgo, Auth:Mode=Upstream) <-- clients (asyncio, python3-websockets)

Clients: --clients in all, --keyb-clients of them with key B (the rest key A), --wss-clients of them over
wss on the front's HTTPS listener (self-signed cert, not verified), the others over ws on its internal
listener; client i prefers mode i%3+1 (LTP/Quote/Depth) and subscribes --per-client of the --symbols
symbols NSE SYM0..SYM<n-1>; --orders-a key-A clients and --orders-b key-B clients send subscribe_orders.
Symbols are published at one mode each (the first 60 % Depth, the next 25 % Quote, the rest LTP) and a
client never asks a symbol for more than its published mode, so every subscriber gets every tick.
The publisher sends --rate ticks/s round-robin over the symbols, each payload carrying "soak_seq" (global
sequence number) and "soak_ts" (CLOCK_MONOTONIC at send), plus an order update for key A's user and one
for key B's user every --order-every s (topic zerodha_<user>_orders, payload with "soak_order").

Timeline: start origin + front, connect/authenticate/subscribe all clients, warm up (--warmup s, every
client must receive ticks), then the measured window of --duration s; every --interval s the origin gets
SIGTERM (odd restarts) or SIGKILL (even), and after it has exited and a pause (0..--max-pause s, spread
evenly over the restarts, shuffled) it is started again on the same ports. Restarts stop when fewer than
--max-pause + 30 s of the window would be left. Then the publisher stops, 2 s drain, clients close, the
front and the origin get SIGTERM (SIGKILL after 10 s). Every process is started and stopped by PID.

Measured (printed, and written to OUT/summary.json and OUT/summary.txt):
  * client disconnects (must be 0), with close code and time;
  * per restart: kill -> origin listening ("down"), and per client the time from the kill until the first
    tick published after the new origin started arrives ("gap"): median and max over the clients; the
    max is when every client has ticks again;
  * ticks: expected = every (tick, subscribed client) with the tick published inside the window; the gap
    of a restart is [kill, last client resumed]; delivered % outside the gaps, missing ones outside the
    gaps classified (<= 0.2 s before a kill = in flight when the origin died, else unexplained);
    duplicates, out-of-order per symbol, ticks of symbols a client did not subscribe, wrong mode tag;
    end-to-end latency outside the gaps (publisher send -> client receive, two WebSocket hops);
  * order updates: per restart, whether every subscribe_orders client received the first order update of
    its user published after the restart's gap; totals outside the gaps; updates at a client that did
    not subscribe or of another user (must be 0);
  * front RSS / fds / threads sampled every second: at the window's start and end, min and max;
    front sockets to the origin by TCP state (CLOSE_WAIT piling up = leak);
  * ESTABLISHED connections on the origin's WebSocket port 3 s after every client resumed (must equal the
    number of API keys in use, 2) and the highest count seen between restarts; the origin's
    "authenticated" log lines per incarnation (each resync re-authenticates once per key);
  * WRN/ERR/FTL lines in the front's log, grouped by message (numbers and key fingerprints masked);
  * load average (1 min) at start, at every restart and at the end; CPU of front / origin / this
    script / publisher and "foreign" CPU (machine busy time that was none of those) over the window.
Exit status 1 when a hard check fails (disconnects, duplicates, out-of-order, unexpected ticks or orders,
a client that never resumed, connections at the origin != number of keys, unexplained loss outside gaps).
"""
import argparse
import array
import asyncio
import bisect
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time

KEYS = {"A": ("soak-key-a-" + "a1" * 27, "soakuserA"), "B": ("soak-key-b-" + "b2" * 27, "soakuserB")}
BROKER = "zerodha"
EXCHANGE = "NSE"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def now():
    return time.monotonic()


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def proc_cpu(pid):
    """utime + stime of a live process in jiffies (0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return 0
    fields = st[st.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024.0
                elif k == "Threads":
                    out[k] = int(v)
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return out


def socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        pass
    return inodes


TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
              "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}


def tcp_entries():
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    p = line.split()
                    rows.append((int(p[1].rsplit(":", 1)[1], 16), int(p[2].rsplit(":", 1)[1], 16), p[3], p[9]))
        except OSError:
            pass
    return rows


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def pctl(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100.0 * len(v) + 0.5)) - 1))]


def publish_mode(sym, nsym):
    if sym < 0.60 * nsym:
        return 3
    if sym < 0.85 * nsym:
        return 2
    return 1


# ---------------------------------------------------------------------------------------------- publisher

def payload(seq, sym, mode, ts):
    p = 1000.0 + (seq % 997) * 0.05
    d = {"soak_seq": seq, "soak_ts": ts, "ltp": round(p, 2), "ltt": 1700000000000 + seq}
    if mode >= 2:
        d.update({"open": 1000.0, "high": 1050.5, "low": 990.25, "close": 1001.0, "volume": 123456 + seq,
                  "average_price": 1010.1, "total_buy_quantity": 5000, "total_sell_quantity": 4200})
    if mode == 3:
        d["depth"] = {"buy": [{"price": round(p - 0.05 * i, 2), "quantity": 10 * (i + 1), "orders": i + 1} for i in range(5)],
                      "sell": [{"price": round(p + 0.05 * (i + 1), 2), "quantity": 12 * (i + 1), "orders": i + 1} for i in range(5)]}
    return json.dumps(d).encode()


def cmd_publish(a):
    import zmq
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 1_000_000)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(a.zmq)
    mode_suffix = {1: "LTP", 2: "QUOTE", 3: "DEPTH"}
    topics = [f"{EXCHANGE}_SYM{s}_{mode_suffix[publish_mode(s, a.symbols)]}".encode() for s in range(a.symbols)]
    modes = [publish_mode(s, a.symbols) for s in range(a.symbols)]
    order_topics = {k: f"{BROKER}_{KEYS[k][1]}_orders".encode() for k in KEYS}
    ticks = array.array("d")
    orders = []  # (n, user key, ts)
    start = now()
    seq = 0
    order_n = 0
    next_order = {"A": start + a.order_every, "B": start + a.order_every * 1.5}
    while not stop:
        t = now()
        due = int((t - start) * a.rate)
        while seq <= due:
            ts = now()
            sym = seq % a.symbols
            pub.send_multipart([topics[sym], payload(seq, sym, modes[sym], ts)])
            ticks.append(ts)
            seq += 1
        for k in ("A", "B"):
            if t >= next_order[k]:
                ts = now()
                body = {"type": "order_update", "user_id": KEYS[k][1], "mode": "live", "broker": BROKER,
                        "soak_order": order_n, "soak_ts": ts, "orderid": str(250000000 + order_n), "order_status": "complete"}
                pub.send_multipart([order_topics[k], json.dumps(body).encode()])
                orders.append((order_n, k, ts))
                order_n += 1
                next_order[k] += a.order_every
        time.sleep(a.batch_ms / 1000.0)
    pub.close()
    ctx.term()
    with open(a.log + ".tmp", "wb") as f:
        ticks.tofile(f)
    with open(a.log + ".orders.json", "w") as f:
        json.dump(orders, f)
    os.replace(a.log + ".tmp", a.log)


# ---------------------------------------------------------------------------------------------- processes

class Appliance:
    def __init__(self, name, binary, out, workdir, internal, https, env):
        self.name, self.binary, self.internal, self.https, self.env = name, binary, internal, https, env
        self.dir = os.path.join(workdir, name)
        self.log_path = os.path.join(out, f"{name}-stdout.log")
        self.proc = None
        self.incarnation = 0
        self.log_offsets = []  # byte offset of each incarnation in the log
        self.cpu_jiffies = 0   # summed over finished incarnations
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        self.incarnation += 1
        with open(self.log_path, "ab") as log:
            self.log_offsets.append(log.tell())
            log.write(f"=== {self.name} start #{self.incarnation} {time.strftime('%H:%M:%S')}\n".encode())
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
               "Appliance__Listen__Https": f"127.0.0.1:{self.https}", "Appliance__Listen__Http": "",
               "Appliance__Listen__Internal": f"127.0.0.1:{self.internal}", "Appliance__Tls__Mode": "SelfSigned",
               "Appliance__Limits__MaxClientsPerUser": "20000", "Appliance__Limits__MaxClients": "20000",
               "Appliance__StateDirectory": os.path.join(self.dir, "state"), "Appliance__LogsDirectory": os.path.join(self.dir, "logs")}
        env.update(self.env)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "run"], cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    async def wait_listening(self, timeout=30):
        end = now() + timeout
        while now() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during startup with {self.proc.returncode}; see {self.log_path}")
            if port_open(self.internal) and port_open(self.https):
                return now()
            await asyncio.sleep(0.02)
        raise RuntimeError(f"{self.name} did not open its ports within {timeout} s")

    async def stop(self, sig=signal.SIGTERM, grace=10.0):
        """Signals the process by PID and reaps it; SIGKILL after grace s. Returns (exit time, how)."""
        if not self.proc:
            return now(), "not running"
        self.cpu_jiffies += proc_cpu(self.proc.pid)
        how = sig.name
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            end = now() + grace
            while self.proc.poll() is None and now() < end:
                await asyncio.sleep(0.01)
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
                how += "+SIGKILL"
                while self.proc.poll() is None:
                    await asyncio.sleep(0.01)
        self.proc = None
        return now(), how

    def stop_sync(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def read_log(self, incarnation=None):
        with open(self.log_path, "rb") as f:
            data = f.read()
        if incarnation is not None:
            start = self.log_offsets[incarnation - 1]
            end = self.log_offsets[incarnation] if incarnation < len(self.log_offsets) else len(data)
            data = data[start:end]
        return data.decode("utf-8", "replace")


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- clients

class Client:
    def __init__(self, idx, key, wss, orders, subs, nseq_hint):
        self.idx, self.key, self.wss, self.orders, self.subs = idx, key, wss, orders, subs  # subs: {sym: mode}
        self.user = KEYS[key][1]
        self.seqs = array.array("l")
        self.recv = array.array("d")
        self.lat = array.array("f")
        self.last_seq = {}
        self.last_pub_ts = 0.0
        self.first_rx = None
        self.disconnect = None
        self.duplicates_online = 0
        self.out_of_order = 0
        self.unexpected_symbol = 0
        self.wrong_mode = 0
        self.other = []
        self.order_rx = []  # (n, user, recv)
        self.replies = []
        self.ws = None

    @property
    def label(self):
        return f"c{self.idx}({self.key},{'wss' if self.wss else 'ws'}{',orders' if self.orders else ''})"


async def client_setup(c, url, ssl_ctx):
    import websockets
    c.ws = await websockets.connect(url, ssl=ssl_ctx, max_size=2 ** 22, max_queue=1024, ping_interval=20, ping_timeout=20, close_timeout=5)
    await c.ws.send(json.dumps({"action": "authenticate", "api_key": KEYS[c.key][0]}))
    r = json.loads(await asyncio.wait_for(c.ws.recv(), 15))
    if r.get("status") != "success":
        raise RuntimeError(f"{c.label}: authenticate failed: {r}")
    by_mode = {}
    for sym, mode in c.subs.items():
        by_mode.setdefault(mode, []).append({"symbol": f"SYM{sym}", "exchange": EXCHANGE})
    for mode, symbols in sorted(by_mode.items()):
        await c.ws.send(json.dumps({"action": "subscribe", "symbols": symbols, "mode": mode, "depth": 5}))
        while True:
            r = json.loads(await asyncio.wait_for(c.ws.recv(), 15))
            if r.get("type") == "subscribe":
                break
        if r.get("status") != "success":
            raise RuntimeError(f"{c.label}: subscribe failed: {r}")
    if c.orders:
        await c.ws.send(json.dumps({"action": "subscribe_orders"}))
        while True:
            r = json.loads(await asyncio.wait_for(c.ws.recv(), 15))
            if r.get("type") == "subscribe_orders":
                break
        if r.get("status") != "success":
            raise RuntimeError(f"{c.label}: subscribe_orders failed: {r}")


async def client_loop(c, state):
    import websockets
    loads = json.loads
    seqs_append, recv_append, lat_append = c.seqs.append, c.recv.append, c.lat.append
    try:
        async for msg in c.ws:
            t = now()
            m = loads(msg)
            typ = m.get("type")
            if typ == "market_data":
                d = m.get("data") or {}
                seq = d.get("soak_seq")
                ts = d.get("soak_ts")
                if seq is None:
                    c.other.append(msg[:300])
                    continue
                sym_name = m.get("symbol", "")
                sym = int(sym_name[3:]) if sym_name.startswith("SYM") and sym_name[3:].isdigit() else -1
                want = c.subs.get(sym)
                if want is None:
                    c.unexpected_symbol += 1
                elif m.get("mode") != want:
                    c.wrong_mode += 1
                last = c.last_seq.get(sym, -1)
                if seq <= last:
                    if seq == last:
                        c.duplicates_online += 1
                    else:
                        c.out_of_order += 1
                else:
                    c.last_seq[sym] = seq
                seqs_append(seq)
                recv_append(t)
                lat_append(t - ts)
                if ts > c.last_pub_ts:
                    c.last_pub_ts = ts
                if c.first_rx is None:
                    c.first_rx = t
            elif typ == "order_update":
                c.order_rx.append((m.get("soak_order"), m.get("user_id"), t))
            else:
                c.other.append(msg[:300])
    except websockets.ConnectionClosed:
        pass
    except Exception as e:  # noqa: BLE001 - anything else is a client-side failure, reported as such
        c.other.append(f"client error: {e!r}")
    if not state["closing"]:
        c.disconnect = {"t": now(), "code": getattr(c.ws, "close_code", None), "reason": getattr(c.ws, "close_reason", None)}
        print(f"!! {c.label} DISCONNECTED at +{now() - state['t0']:.1f} s: code {c.disconnect['code']} {c.disconnect['reason']!r}", flush=True)


# ---------------------------------------------------------------------------------------------- run

def plan_clients(a, rng):
    n = a.clients
    idx = list(range(n))
    b = set(rng.sample(idx, a.keyb_clients))
    wss = set(rng.sample(idx, a.wss_clients))
    # at least one wss client per key when both are possible
    if wss and b and not (wss & b) and a.wss_clients >= 2:
        wss.remove(next(iter(wss)))
        wss.add(rng.choice(sorted(b)))
    if wss and not (wss - b) and a.wss_clients >= 2 and len(b) < n:
        wss.remove(next(iter(wss)))
        wss.add(rng.choice(sorted(set(idx) - b)))
    a_idx = [i for i in idx if i not in b]
    orders = set(rng.sample(a_idx, min(a.orders_a, len(a_idx)))) | set(rng.sample(sorted(b), min(a.orders_b, len(b))))
    clients = []
    for i in idx:
        pref = i % 3 + 1
        syms = rng.sample(range(a.symbols), a.per_client)
        subs = {s: min(pref, publish_mode(s, a.symbols)) for s in syms}
        clients.append(Client(i, "B" if i in b else "A", i in wss, i in orders, subs, 0))
    return clients


async def run(a):
    out = a.out
    os.makedirs(out, exist_ok=True)
    workdir = os.path.join(out, "work")
    os.makedirs(workdir, exist_ok=True)
    rng = random.Random(a.seed)
    f_https, f_int, o_https, o_int, zmq_port = free_ports(5)
    print(f"ports: front https {f_https} internal {f_int}; origin https {o_https} internal {o_int}; zmq {zmq_port}; out {out}", flush=True)
    origin_env = {"Appliance__MarketData__Source": "Zmq", "Appliance__MarketData__ZmqEndpoint": f"tcp://127.0.0.1:{zmq_port}",
                  "Appliance__Auth__Mode": "StaticKeys"}
    for i, k in enumerate(("A", "B")):
        origin_env[f"Appliance__Auth__StaticKeys__{i}__Key"] = KEYS[k][0]
        origin_env[f"Appliance__Auth__StaticKeys__{i}__UserId"] = KEYS[k][1]
        origin_env[f"Appliance__Auth__StaticKeys__{i}__Broker"] = BROKER
    front_env = {"Appliance__MarketData__Source": "OpenAlgo", "Appliance__MarketData__OpenAlgoUpstreamUrl": f"ws://127.0.0.1:{o_int}",
                 "Appliance__Auth__Mode": "Upstream"}
    origin = Appliance("origin", a.binary, out, workdir, o_int, o_https, origin_env)
    front = Appliance("front", a.binary, out, workdir, f_int, f_https, front_env)
    pub_proc = None
    state = {"closing": False, "t0": now()}
    clients = plan_clients(a, rng)
    tasks = []
    samples = []
    restarts = []
    load_marks = [("start", loadavg())]
    pub_log = os.path.join(out, "published.bin")
    try:
        origin.start()
        await origin.wait_listening()
        front.start()
        await front.wait_listening()
        version = re.search(r"OpenAlgo Appliance (\S+) ready", front.read_log())
        print(f"origin pid {origin.pid}, front pid {front.pid}, appliance {version.group(1) if version else '?'}; load average {loadavg()}", flush=True)
        pub_proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "publish", "--zmq", f"tcp://127.0.0.1:{zmq_port}",
                                     "--rate", str(a.rate), "--symbols", str(a.symbols), "--order-every", str(a.order_every),
                                     "--batch-ms", str(a.batch_ms), "--log", pub_log], stdin=subprocess.DEVNULL)
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ssl_ctx.check_hostname = False
        ssl_ctx.verify_mode = ssl.CERT_NONE
        t_setup = now()
        for c in clients:
            url = f"wss://127.0.0.1:{f_https}/ws" if c.wss else f"ws://127.0.0.1:{f_int}/"
            await client_setup(c, url, ssl_ctx if c.wss else None)
            tasks.append(asyncio.create_task(client_loop(c, state)))
        print(f"{len(clients)} clients connected, authenticated and subscribed in {now() - t_setup:.2f} s "
              f"({sum(c.key == 'A' for c in clients)} key A, {sum(c.key == 'B' for c in clients)} key B, "
              f"{sum(c.wss for c in clients)} wss, {sum(c.orders for c in clients)} order subscribers)", flush=True)
        end_warm = now() + 60
        while any(c.first_rx is None for c in clients):
            if now() > end_warm:
                raise RuntimeError("some clients got no tick within 60 s: " + ", ".join(c.label for c in clients if c.first_rx is None))
            await asyncio.sleep(0.1)
        await asyncio.sleep(a.warmup)

        t0 = now()
        state["t0"] = t0
        t_end = t0 + a.duration
        busy0 = machine_busy()
        cpu0 = {"front": proc_cpu(front.pid), "self": self_cpu(), "pub": proc_cpu(pub_proc.pid)}
        origin_cpu_base = origin.cpu_jiffies + proc_cpu(origin.pid)

        async def sampler():
            while not state["closing"]:
                t = now()
                st = proc_status(front.pid)
                tcp = tcp_entries()
                inodes = socket_inodes(front.pid)
                origin_conns = sum(1 for lp, rp, s, ino in tcp if lp == o_int and s == "01")
                front_up = {}
                for lp, rp, s, ino in tcp:
                    if rp == o_int and ino in inodes:
                        front_up[TCP_STATES.get(s, s)] = front_up.get(TCP_STATES.get(s, s), 0) + 1
                samples.append({"t": t - t0, "rss": st.get("VmRSS"), "hwm": st.get("VmHWM"), "fds": st.get("fds"),
                                "threads": st.get("Threads"), "origin_conns": origin_conns, "front_upstream": front_up,
                                "origin_up": origin.proc is not None})
                await asyncio.sleep(1.0)
        sampler_task = asyncio.create_task(sampler())

        n_restarts = 0
        while True:
            k = n_restarts + 1
            t_kill_at = t0 + k * a.interval
            if t_kill_at + a.max_pause + 30 > t_end:
                break
            n_restarts = k
        pauses = [a.max_pause * j / (n_restarts - 1) for j in range(n_restarts)] if n_restarts > 1 else [a.max_pause / 2] * n_restarts
        rng.shuffle(pauses)
        print(f"measuring {a.duration:.0f} s from now, {n_restarts} origin restarts every {a.interval:.0f} s "
              f"(pauses {', '.join(f'{p:.2f}' for p in pauses)} s); load average {loadavg()}", flush=True)

        for k in range(1, n_restarts + 1):
            while now() < t0 + k * a.interval:
                await asyncio.sleep(min(0.2, t0 + k * a.interval - now()))
            sig = signal.SIGTERM if k % 2 == 1 else signal.SIGKILL
            r = {"k": k, "signal": sig.name, "pause": pauses[k - 1], "load1": loadavg(), "old_incarnation": origin.incarnation}
            r["t_kill"] = now()
            r["t_exit"], r["stop"] = await origin.stop(sig)
            await asyncio.sleep(pauses[k - 1])
            r["t_start"] = now()
            for attempt in range(5):
                origin.start()
                try:
                    r["t_listen"] = await origin.wait_listening()
                    break
                except RuntimeError as e:
                    print(f"!! origin restart {k} attempt {attempt + 1} failed: {e}", flush=True)
                    r.setdefault("start_failures", []).append(str(e))
                    await origin.stop(signal.SIGKILL)
                    await asyncio.sleep(1)
            else:
                raise RuntimeError("origin would not restart")
            r["incarnation"] = origin.incarnation
            # wait (at most 60 s) until every live client has a tick published after the new origin started
            deadline = now() + 60
            while now() < deadline and any(c.disconnect is None and c.last_pub_ts < r["t_start"] for c in clients):
                await asyncio.sleep(0.05)
            r["t_all_resumed_online"] = now()
            stragglers = [c.label for c in clients if c.disconnect is None and c.last_pub_ts < r["t_start"]]
            if stragglers:
                r["never_resumed"] = stragglers
                print(f"!! restart {k}: {len(stragglers)} clients without ticks 60 s after the origin came back: {stragglers[:10]}", flush=True)
            await asyncio.sleep(3)
            tcp = tcp_entries()
            r["origin_conns"] = sum(1 for lp, rp, s, ino in tcp if lp == o_int and s == "01")
            r["front_rss"] = proc_status(front.pid).get("VmRSS")
            print(f"restart {k}/{n_restarts} at +{r['t_kill'] - t0:.1f} s: {sig.name} ({r['stop']}, exited after {(r['t_exit'] - r['t_kill']) * 1000:.0f} ms), "
                  f"pause {r['pause']:.2f} s, listening {r['t_listen'] - r['t_kill']:.2f} s after the kill, all clients ticking "
                  f"{r['t_all_resumed_online'] - r['t_kill']:.2f} s after it; origin connections {r['origin_conns']}; "
                  f"front RSS {r['front_rss']:.1f} MB; load {r['load1']}", flush=True)
            restarts.append(r)

        while now() < t_end:
            await asyncio.sleep(min(0.5, t_end - now()))
        cpu1 = {"front": proc_cpu(front.pid), "self": self_cpu(), "pub": proc_cpu(pub_proc.pid)}
        origin_cpu_total = origin.cpu_jiffies + proc_cpu(origin.pid) - origin_cpu_base
        busy1 = machine_busy()
        load_marks.append(("end", loadavg()))
        end_status = proc_status(front.pid)
        os.kill(pub_proc.pid, signal.SIGTERM)
        pub_proc.wait(30)
        pub_proc = None
        await asyncio.sleep(2)  # drain
        state["closing"] = True
        await sampler_task
        for c in clients:
            if c.disconnect is None:
                try:
                    await asyncio.wait_for(c.ws.close(), 5)
                except Exception:  # noqa: BLE001
                    pass
        await asyncio.wait(tasks, timeout=10)
        await front.stop(signal.SIGTERM)
        await origin.stop(signal.SIGTERM)

        wall = t_end - t0
        cpu = {"front_pct": 100 * (cpu1["front"] - cpu0["front"]) / CLK_TCK / wall,
               "origin_pct": 100 * origin_cpu_total / CLK_TCK / wall,
               "script_pct": 100 * (cpu1["self"] - cpu0["self"]) / CLK_TCK / wall,
               "publisher_pct": 100 * (cpu1["pub"] - cpu0["pub"]) / CLK_TCK / wall}
        cpu["machine_busy_pct"] = 100 * (busy1 - busy0) / CLK_TCK / wall
        cpu["foreign_pct"] = cpu["machine_busy_pct"] - cpu["front_pct"] - cpu["origin_pct"] - cpu["script_pct"] - cpu["publisher_pct"]
        return analyse(a, clients, restarts, samples, t0, t_end, pub_log, front, origin, cpu, load_marks, end_status)
    finally:
        state["closing"] = True
        for t in tasks:
            t.cancel()
        for c in clients:  # FIN at once, so the front does not wait out close handshakes this (blocked) loop cannot answer
            try:
                c.ws.transport.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            except Exception:  # noqa: BLE001 - not connected / already closed
                pass
        if pub_proc and pub_proc.poll() is None:
            os.kill(pub_proc.pid, signal.SIGTERM)
            try:
                pub_proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(pub_proc.pid, signal.SIGKILL)
                pub_proc.wait()
        front.stop_sync()
        origin.stop_sync()
        if not a.keep_state:
            shutil.rmtree(workdir, ignore_errors=True)


def self_cpu():
    t = os.times()
    return (t.user + t.system) * CLK_TCK


# ---------------------------------------------------------------------------------------------- analysis

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (WRN|ERR|FTL) (.*)$")


def mask(msg):
    msg = re.sub(r"key#[0-9a-f]+", "key#…", msg)
    msg = re.sub(r"\d+(\.\d+)?", "N", msg)
    return msg


def analyse(a, clients, restarts, samples, t0, t_end, pub_log, front, origin, cpu, load_marks, end_status):
    pub_ts = array.array("d")
    with open(pub_log, "rb") as f:
        pub_ts.frombytes(f.read())
    with open(pub_log + ".orders.json") as f:
        orders = json.load(f)
    nseq = len(pub_ts)
    res = {"config": {k: v for k, v in vars(a).items() if k != "func"}, "published_ticks": nseq, "window_s": t_end - t0}

    # per-client resumption and gaps
    for r in restarts:
        per_client = []
        for c in clients:
            if c.disconnect is not None and c.disconnect["t"] < r["t_start"]:
                continue
            # first receipt of a tick published after the new origin started
            first = None
            for i in range(bisect.bisect_left(c.recv, r["t_start"]), len(c.recv)):
                if pub_ts[c.seqs[i]] >= r["t_start"]:
                    first = c.recv[i]
                    break
            per_client.append(None if first is None else first - r["t_kill"])
        ok = [g for g in per_client if g is not None]
        r["gap_median"] = statistics.median(ok) if ok else None
        r["gap_max"] = max(ok) if ok else None
        r["not_resumed"] = sum(1 for g in per_client if g is None)
        r["t_gap_end"] = r["t_kill"] + (r["gap_max"] if r["gap_max"] is not None else 60)
        r["recovery_after_listen"] = (r["t_gap_end"] - r["t_listen"])

    in_window = bytearray(nseq)
    in_gap = bytearray(nseq)
    pre_kill = bytearray(nseq)
    for s in range(nseq):
        ts = pub_ts[s]
        if t0 <= ts < t_end:
            in_window[s] = 1
            for r in restarts:
                if r["t_kill"] <= ts <= r["t_gap_end"]:
                    in_gap[s] = 1
                    break
                if r["t_kill"] - 0.2 <= ts < r["t_kill"]:
                    pre_kill[s] = 1
    expected_out = delivered_out = expected_gap = delivered_gap = 0
    dups = ooo = unexpected = wrong_mode = 0
    lost_prekill = lost_unexplained = 0
    unexplained_examples = []
    lats = []
    for c in clients:
        count = bytearray(nseq)
        for i in range(len(c.seqs)):
            s = c.seqs[i]
            if s < nseq and count[s] < 255:
                count[s] += 1
        dups += sum(1 for x in count if x > 1)
        ooo += c.out_of_order
        unexpected += c.unexpected_symbol
        wrong_mode += c.wrong_mode
        alive_until = c.disconnect["t"] if c.disconnect else float("inf")
        for sym in c.subs:
            for s in range(sym, nseq, a.symbols):
                if not in_window[s] or pub_ts[s] >= alive_until:
                    continue
                if in_gap[s]:
                    expected_gap += 1
                    delivered_gap += count[s] > 0
                    continue
                expected_out += 1
                if count[s]:
                    delivered_out += 1
                elif pre_kill[s]:
                    lost_prekill += 1
                else:
                    lost_unexplained += 1
                    if len(unexplained_examples) < 20:
                        unexplained_examples.append({"client": c.label, "seq": s, "pub_t": round(pub_ts[s] - t0, 3)})
        for i in range(len(c.seqs)):
            s = c.seqs[i]
            if s < nseq and in_window[s] and not in_gap[s]:
                lats.append(c.lat[i])
    lats.sort()
    res["ticks"] = {"expected_outside_gaps": expected_out, "delivered_outside_gaps": delivered_out,
                    "delivered_pct_outside_gaps": 100.0 * delivered_out / max(1, expected_out),
                    "lost_in_flight_at_kill": lost_prekill, "lost_unexplained": lost_unexplained, "unexplained_examples": unexplained_examples,
                    "expected_in_gaps": expected_gap, "delivered_in_gaps": delivered_gap,
                    "duplicates": dups, "out_of_order": ooo, "unexpected_symbol": unexpected, "wrong_mode": wrong_mode,
                    "latency_ms_outside_gaps": {"p50": 1000 * pctl(lats, 50), "p99": 1000 * pctl(lats, 99), "p99.9": 1000 * pctl(lats, 99.9),
                                                "max": 1000 * (lats[-1] if lats else float("nan"))}}

    # order updates
    per_restart_orders = []
    order_expected = order_delivered = order_dups = order_foreign = order_unsolicited = 0
    for c in clients:
        got = {}
        for n, user, t in c.order_rx:
            if not c.orders:
                order_unsolicited += 1
            if user != c.user:
                order_foreign += 1
            got[n] = got.get(n, 0) + 1
        order_dups += sum(1 for v in got.values() if v > 1)
        c.order_got = got
    for n, k, ts in orders:
        if not (t0 <= ts < t_end) or any(r["t_kill"] <= ts <= r["t_gap_end"] for r in restarts):
            continue
        for c in clients:
            if c.orders and c.key == k and (c.disconnect is None or c.disconnect["t"] > ts):
                order_expected += 1
                order_delivered += n in c.order_got
    for r in restarts:
        row = {"k": r["k"]}
        for k in ("A", "B"):
            nxt = next(((n, ts) for n, kk, ts in orders if kk == k and ts > r["t_gap_end"]), None)
            subs = [c for c in clients if c.orders and c.key == k and c.disconnect is None]
            if nxt is None:
                row[k] = "no order after the gap"
                continue
            have = sum(1 for c in subs if nxt[0] in c.order_got)
            lat = [t - nxt[1] for c in subs for n, u, t in c.order_rx if n == nxt[0]]
            row[k] = f"{have}/{len(subs)}" + (f" (+{1000 * max(lat):.1f} ms)" if lat else "")
            r[f"orders_{k}_ok"] = have == len(subs)
        per_restart_orders.append(row)
    res["orders"] = {"expected_outside_gaps": order_expected, "delivered_outside_gaps": order_delivered,
                     "duplicates": order_dups, "other_users": order_foreign, "to_non_subscribers": order_unsolicited,
                     "per_restart": per_restart_orders}

    # disconnects, other frames
    res["disconnects"] = [{"client": c.label, "t": round(c.disconnect["t"] - t0, 3), "code": c.disconnect["code"], "reason": c.disconnect["reason"]}
                          for c in clients if c.disconnect]
    res["other_frames"] = {c.label: c.other[:5] for c in clients if c.other}

    # front process
    win = [s for s in samples if s["rss"] is not None]
    res["front"] = {"rss_start_mb": win[0]["rss"] if win else None, "rss_end_mb": end_status.get("VmRSS"),
                    "rss_min_mb": min(s["rss"] for s in win) if win else None, "rss_max_mb": max(s["rss"] for s in win) if win else None,
                    "hwm_mb": end_status.get("VmHWM"), "fds_start": win[0]["fds"] if win else None, "fds_end": end_status.get("fds"),
                    "fds_max": max(s["fds"] for s in win) if win else None,
                    "threads_start": win[0]["threads"] if win else None, "threads_end": end_status.get("Threads"),
                    "upstream_socket_states_max": {}}
    for s in win:
        for st, n in s["front_upstream"].items():
            res["front"]["upstream_socket_states_max"][st] = max(n, res["front"]["upstream_socket_states_max"].get(st, 0))
    # highest number of connections at the origin between "resumed + 3 s" and the next kill
    for i, r in enumerate(restarts):
        lo = r["t_all_resumed_online"] + 3 - t0
        hi = (restarts[i + 1]["t_kill"] - t0) if i + 1 < len(restarts) else (t_end - t0)
        vals = [s["origin_conns"] for s in samples if lo <= s["t"] < hi and s["origin_up"]]
        r["origin_conns_max_between"] = max(vals) if vals else None
        r["origin_conns_min_between"] = min(vals) if vals else None
        log = origin.read_log(r["incarnation"])
        r["origin_auth_lines"] = len(re.findall(r" authenticated as ", log))
        r["origin_log_problems"] = len(re.findall(r"^\d\d:\d\d:\d\d (WRN|ERR|FTL) ", log, re.M))
    front_log = front.read_log()
    counts = {}
    for line in front_log.splitlines():
        m = LOG_LINE.match(line)
        if m:
            key = f"{m.group(1)} {mask(m.group(2))}"
            counts[key] = counts.get(key, 0) + 1
    res["front_log"] = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
    res["front_upstream_connects"] = len(re.findall(r"OpenAlgo proxy session key#[0-9a-f]+ connected to", front_log))
    res["cpu"] = cpu
    res["load"] = {"marks": load_marks, "per_restart": [r["load1"] for r in restarts]}
    res["restarts"] = [{k: (round(v - t0, 3) if k.startswith("t_") and isinstance(v, float) else v) for k, v in r.items()} for r in restarts]

    gaps_max = [r["gap_max"] for r in restarts if r["gap_max"] is not None]
    gaps_med = [r["gap_median"] for r in restarts if r["gap_median"] is not None]
    failures = []
    if res["disconnects"]:
        failures.append(f"{len(res['disconnects'])} client disconnects")
    if any(r["not_resumed"] for r in restarts):
        failures.append("clients that never resumed after a restart")
    for key in ("duplicates", "out_of_order", "unexpected_symbol", "wrong_mode", "lost_unexplained"):
        if res["ticks"][key]:
            failures.append(f"ticks: {key} = {res['ticks'][key]}")
    if res["orders"]["duplicates"] or res["orders"]["other_users"] or res["orders"]["to_non_subscribers"]:
        failures.append("order updates duplicated / to the wrong clients")
    if any(not r.get("orders_A_ok", True) or not r.get("orders_B_ok", True) for r in restarts):
        failures.append("order subscribers missing the first order update after a restart")
    nkeys = len({c.key for c in clients})
    if any(r["origin_conns"] != nkeys for r in restarts):
        failures.append(f"connections at the origin after a restart != {nkeys}")
    res["failures"] = failures

    lines = []
    p = lines.append
    p(f"window {t_end - t0:.0f} s, {len(restarts)} origin restarts, {len(clients)} clients, {a.rate} ticks/s over {a.symbols} symbols, "
      f"{nseq} ticks published")
    p(f"client disconnects: {len(res['disconnects'])}" + (f"  {res['disconnects']}" if res["disconnects"] else ""))
    p("restart | signal | exit ms | pause s | listening s | gap median / max s (kill -> ticks) | max - listening s | origin conns (+3 s / max between) | origin auths | orders A / B | front RSS MB | load")
    for r, o in zip(restarts, per_restart_orders):
        p(f"{r['k']:>2} | {r['signal']:<7} | {(r['t_exit'] - r['t_kill']) * 1000:7.0f} | {r['pause']:5.2f} | {r['t_listen'] - r['t_kill']:6.2f} | "
          f"{(r['gap_median'] or float('nan')):5.2f} / {(r['gap_max'] or float('nan')):5.2f} | {r['recovery_after_listen']:5.2f} | "
          f"{r['origin_conns']} / {r['origin_conns_max_between']} | {r['origin_auth_lines']} | {o.get('A')} / {o.get('B')} | {r['front_rss']:.1f} | {r['load1']}")
    if gaps_max:
        p(f"gap until every client has ticks again: median over restarts {statistics.median(gaps_max):.2f} s, max {max(gaps_max):.2f} s; "
          f"per-client median gap: median {statistics.median(gaps_med):.2f} s, max {max(gaps_med):.2f} s")
    t = res["ticks"]
    p(f"ticks outside gaps: {t['delivered_outside_gaps']}/{t['expected_outside_gaps']} delivered ({t['delivered_pct_outside_gaps']:.4f} %); "
      f"lost in flight at a kill (<= 0.2 s before): {t['lost_in_flight_at_kill']}; unexplained: {t['lost_unexplained']}; "
      f"in gaps {t['delivered_in_gaps']}/{t['expected_in_gaps']} delivered")
    p(f"duplicates {t['duplicates']}, out of order {t['out_of_order']}, unsubscribed symbol {t['unexpected_symbol']}, wrong mode tag {t['wrong_mode']}")
    lt = t["latency_ms_outside_gaps"]
    p(f"latency outside gaps (publisher -> client, 2 hops): p50 {lt['p50']:.2f} ms, p99 {lt['p99']:.2f} ms, p99.9 {lt['p99.9']:.2f} ms, max {lt['max']:.1f} ms")
    o = res["orders"]
    p(f"order updates outside gaps: {o['delivered_outside_gaps']}/{o['expected_outside_gaps']}; duplicates {o['duplicates']}, "
      f"other user's {o['other_users']}, to non-subscribers {o['to_non_subscribers']}")
    fr = res["front"]
    p(f"front RSS: {fr['rss_start_mb']:.1f} MB at the window's start, {fr['rss_end_mb']:.1f} MB at its end (min {fr['rss_min_mb']:.1f}, max {fr['rss_max_mb']:.1f}, "
      f"peak {fr['hwm_mb']:.1f}); fds {fr['fds_start']} -> {fr['fds_end']} (max {fr['fds_max']}); threads {fr['threads_start']} -> {fr['threads_end']}; "
      f"its sockets to the origin, max per state: {fr['upstream_socket_states_max']}")
    p(f"front upstream session connects in its log: {res['front_upstream_connects']}")
    p("front log WRN/ERR/FTL by message:" + ("" if res["front_log"] else " none"))
    for msg, n in res["front_log"].items():
        p(f"  {n:5d}  {msg}")
    c = res["cpu"]
    p(f"CPU % of one core over the window: front {c['front_pct']:.1f}, origin {c['origin_pct']:.1f}, clients (this script) {c['script_pct']:.1f}, "
      f"publisher {c['publisher_pct']:.1f}, foreign {c['foreign_pct']:.1f} (machine busy {c['machine_busy_pct']:.1f} of 200)")
    p(f"load average (1 min): {', '.join(f'{n} {v}' for n, v in load_marks)}; at the restarts: {', '.join(res['load']['per_restart'])}")
    if res["other_frames"]:
        p(f"other frames: {json.dumps(res['other_frames'])[:2000]}")
    p("RESULT: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    text = "\n".join(lines)
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(a.out, "samples.json"), "w") as f:
        json.dump(samples, f)
    print(text, flush=True)
    return 0 if not failures else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--binary", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--duration", type=float, default=600)
    r.add_argument("--interval", type=float, default=60)
    r.add_argument("--max-pause", type=float, default=5)
    r.add_argument("--warmup", type=float, default=10)
    r.add_argument("--clients", type=int, default=50)
    r.add_argument("--keyb-clients", type=int, default=8)
    r.add_argument("--wss-clients", type=int, default=6)
    r.add_argument("--orders-a", type=int, default=5)
    r.add_argument("--orders-b", type=int, default=2)
    r.add_argument("--symbols", type=int, default=100)
    r.add_argument("--per-client", type=int, default=20)
    r.add_argument("--rate", type=float, default=500)
    r.add_argument("--order-every", type=float, default=3)
    r.add_argument("--batch-ms", type=float, default=5)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--keep-state", action="store_true")
    p = sub.add_parser("publish")
    p.add_argument("--zmq", required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--symbols", type=int, required=True)
    p.add_argument("--order-every", type=float, required=True)
    p.add_argument("--batch-ms", type=float, default=5)
    p.add_argument("--log", required=True)
    a = ap.parse_args()
    if a.cmd == "publish":
        cmd_publish(a)
        return 0
    def on_term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        return asyncio.run(run(a))
    except KeyboardInterrupt:
        print("interrupted; processes stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
