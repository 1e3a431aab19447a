#!/usr/bin/python3
"""Auth:Mode=OpenAlgoDatabase end to end: first-time and cached authenticate, and whether other clients stall.

usage: /usr/bin/python3 bench/auth/db_auth.py [--binary /tmp/oa-bench-pub/openalgo-appliance] [--runs 5]
           [--keys 10] [--out DIR] [--time-cost 3 --memory-cost 65536 --parallelism 4] [--env K=V]... [--no-emulation] [--wait-quiet 10]

Per run (a fresh appliance process each time, so every cache starts empty):
  1. an OpenAlgo-shaped SQLite file (made once per invocation): api_keys(id, user_id, api_key_hash,
     api_key_encrypted, created_at, order_mode) with 1 + --keys rows, hashes by Debian's python3-argon2
     at argon2-cffi 23's defaults (t=3, m=64 MiB, p=4) of api_key + pepper; auth(id, name, auth,
     feed_token, broker, user_id, is_revoked) with one row per user (broker "zerodha", not revoked);
  2. starts the appliance: Source=Zmq, Auth:Mode=OpenAlgoDatabase, Auth:DatabasePath, Auth:ApiKeyPepper
     (plain ws on the internal listener), waits for its port;
  3. "first": client A connects, then times {"action":"authenticate"} -> reply for key 0 (row 0: one
     Argon2 verification + two SQLite lookups);
     "cached": client B connects and times the same for key 0 again (cache hit);
  4. "storm": client A (authenticated) pings ({"action":"ping"} -> pong, one at a time, 5 ms apart)
     for 0.5 s, then --keys further clients send authenticate for keys 1..N at the same instant
     (key i is on row i, so - as in OpenAlgo's verify_api_key, which tries every row - it costs i+1
     verifications); pings continue until every reply is in and 0.5 s more. Reported: ping RTT
     p50/p99/max before and during the storm, the longest gap between two pongs during the storm, and
     the time until the first/last storm reply;
  5. stops the appliance (SIGTERM). Every ping of the run goes to DIR/pings-runN.tsv (send time relative
     to the storm's start, RTT) with the storm's reply times, to see when a stall happened.
Then, for comparison, the same storm's cost in OpenAlgo's own loop is emulated: argon2-cffi's
PasswordHasher().verify over the rows exactly as verify_api_key does, sequentially (its proxy runs this
on the asyncio event loop, so no other client is served meanwhile) - printed as the loop's stall.
Medians over runs are printed as a markdown table; per-run lines and the 1-minute load average too, and
foreign_cpu_pct: machine busy time during the run that was neither the appliance nor this script (% of
one core) - a disturbed run shows up there. --wait-quiet N waits before each run for < N % machine busy.
"""
import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import websocket  # python3-websocket
from argon2 import PasswordHasher

PEPPER = "bench-pepper-" + "x" * 51  # OpenAlgo's API_KEY_PEPPER is 64 hex chars; any string works


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def machine_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy, busy + v[3] + v[4]


def proc_cpu(pid):
    """utime + stime of a process, in jiffies."""
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def self_cpu():
    t = os.times()
    return (t.user + t.system) * os.sysconf("SC_CLK_TCK")


def wait_quiet(limit, max_wait=900):
    """Waits until the machine is below limit % busy over 2 s; returns the last figure."""
    waited = 0
    while True:
        b0, t0 = machine_busy()
        time.sleep(2)
        b1, t1 = machine_busy()
        pct_busy = 100 * (b1 - b0) / max(1, t1 - t0)
        if limit <= 0 or pct_busy < limit or waited >= max_wait:
            return pct_busy
        if waited == 0:
            print(f"machine {pct_busy:.0f} % busy (load {loadavg()}); waiting for < {limit} %", flush=True)
        waited += 2


def key_of(i):
    return f"{i:02d}" + "a1b2c3d4" * 7 + "beef3c"  # 64 characters, like OpenAlgo's secrets.token_hex(32)


def make_db(path, n, ph):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE api_keys(id INTEGER PRIMARY KEY, user_id TEXT, api_key_hash TEXT, api_key_encrypted TEXT, created_at TEXT, order_mode TEXT)")
    db.execute("CREATE TABLE auth(id INTEGER PRIMARY KEY, name TEXT, auth TEXT, feed_token TEXT, broker TEXT, user_id TEXT, is_revoked INTEGER)")
    for i in range(n):
        db.execute("INSERT INTO api_keys(id, user_id, api_key_hash, api_key_encrypted, created_at, order_mode) VALUES (?,?,?,?,?,?)",
                   (i + 1, f"user{i}", ph.hash(key_of(i) + PEPPER), "gAAAA-not-used", "2025-01-01 00:00:00", "auto"))
        db.execute("INSERT INTO auth(id, name, auth, feed_token, broker, user_id, is_revoked) VALUES (?,?,?,?,?,?,?)",
                   (i + 1, f"user{i}", "encrypted-token", None, "zerodha", f"user{i}", 0))
    db.commit()
    db.close()


def wait_port(port, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"appliance exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("appliance did not open its port")


def connect(url):
    return websocket.create_connection(url, timeout=60, enable_multithread=True)


def timed_auth(ws, key):
    msg = json.dumps({"action": "authenticate", "api_key": key})
    t0 = time.perf_counter()
    ws.send(msg)
    reply = json.loads(ws.recv())
    return (time.perf_counter() - t0) * 1000, reply


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run_once(a, db_path, workdir, run):
    port = a.port
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
        "Appliance__Listen__Https": f"127.0.0.1:{a.https_port}", "Appliance__Listen__Http": "",
        "Appliance__Listen__Internal": f"127.0.0.1:{port}", "Appliance__Tls__Mode": "SelfSigned",
        "Appliance__MarketData__Source": "Zmq", "Appliance__MarketData__ZmqEndpoint": f"tcp://127.0.0.1:{a.zmq_port}",
        "Appliance__Auth__Mode": "OpenAlgoDatabase", "Appliance__Auth__DatabasePath": db_path,
        "Appliance__Auth__ApiKeyPepper": PEPPER,
        "Appliance__StateDirectory": os.path.join(workdir, "state"), "Appliance__LogsDirectory": os.path.join(workdir, "logs"),
    }
    for kv in a.env:
        k, _, v = kv.partition("=")
        env[k] = v
    log = open(os.path.join(workdir, "appliance-stdout.log"), "a")
    busy_before = wait_quiet(a.wait_quiet)
    load_before = loadavg()
    proc = subprocess.Popen([a.binary, "run"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        m0, s0, p0 = machine_busy()[0], self_cpu(), 0
        wait_port(port, proc)
        p0 = proc_cpu(proc.pid)
        w0 = time.perf_counter()
        url = f"ws://127.0.0.1:{port}/"
        wa = connect(url)
        first_ms, r = timed_auth(wa, key_of(0))
        assert r.get("status") == "success", r
        wb = connect(url)
        cached_ms, r = timed_auth(wb, key_of(0))
        assert r.get("status") == "success", r
        wb.close()

        # storm
        storm = [connect(url) for _ in range(a.keys)]
        pings = []  # (t_sent, rtt_ms)
        stop = threading.Event()

        def pinger():
            i = 0
            while not stop.is_set():
                i += 1
                t0 = time.perf_counter()
                wa.send(json.dumps({"action": "ping", "_pingId": i}))
                while True:
                    m = json.loads(wa.recv())
                    if m.get("type") == "pong":
                        break
                t1 = time.perf_counter()
                pings.append((t0, t1, (t1 - t0) * 1000))
                time.sleep(0.005)

        replies = [None] * a.keys
        go = threading.Barrier(a.keys + 1)

        def auth(i):
            go.wait()
            t0 = time.perf_counter()
            storm[i].send(json.dumps({"action": "authenticate", "api_key": key_of(i + 1)}))
            r = json.loads(storm[i].recv())
            replies[i] = (t0, time.perf_counter(), r.get("status"))

        pt = threading.Thread(target=pinger)
        pt.start()
        time.sleep(0.5)
        ts = [threading.Thread(target=auth, args=(i,)) for i in range(a.keys)]
        for t in ts:
            t.start()
        go.wait()
        storm_start = time.perf_counter()
        for t in ts:
            t.join()
        storm_end = time.perf_counter()
        time.sleep(0.5)
        stop.set()
        pt.join()
        for w in storm:
            w.close()
        wa.close()
        with open(os.path.join(workdir, f"pings-run{run}.tsv"), "w") as f:
            f.write("sent_ms\trtt_ms\t(ms since the storm started)\n")
            for t0, t1, rtt in pings:
                f.write(f"{(t0 - storm_start) * 1000:.1f}\t{rtt:.2f}\n")
            for i, r in enumerate(replies):
                if r:
                    f.write(f"# auth key {i + 1}: reply at {(r[1] - storm_start) * 1000:.1f} ms, {r[2]}\n")
        wall = time.perf_counter() - w0
        hz = os.sysconf("SC_CLK_TCK")
        foreign = max(0.0, (machine_busy()[0] - m0) - (proc_cpu(proc.pid) - p0) - (self_cpu() - s0)) / hz / wall * 100
        before = [rtt for t0, t1, rtt in pings if t1 < storm_start]
        during = [rtt for t0, t1, rtt in pings if t0 >= storm_start and t1 <= storm_end]
        pongs = [t1 for t0, t1, rtt in pings if storm_start <= t1 <= storm_end]
        edges = [storm_start] + pongs + [storm_end]
        gap = max(b - a_ for a_, b in zip(edges, edges[1:])) * 1000
        ok = sum(1 for r in replies if r and r[2] == "success")
        firsts = sorted((r[1] - storm_start) * 1000 for r in replies if r)
        res = {
            "first_auth_ms": first_ms, "cached_auth_ms": cached_ms,
            "ping_before_p50_ms": pct(before, 50), "ping_before_max_ms": max(before) if before else float("nan"),
            "ping_during_p50_ms": pct(during, 50), "ping_during_p99_ms": pct(during, 99),
            "ping_during_max_ms": max(during) if during else float("nan"), "pings_during": len(during),
            "longest_pong_gap_ms": gap, "storm_first_reply_ms": firsts[0], "storm_last_reply_ms": firsts[-1],
            "storm_ok": ok, "busy_before_pct": busy_before, "foreign_cpu_pct": foreign, "load_before": load_before, "load_after": loadavg(),
        }
        return res
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def emulate_openalgo(db_path, keys, ph):
    """OpenAlgo's verify_api_key for keys 1..N in a row: every stored hash tried until one matches."""
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT user_id, api_key_hash FROM api_keys").fetchall()
    db.close()
    t0 = time.perf_counter()
    per_key = []
    for i in range(1, keys + 1):
        k0 = time.perf_counter()
        secret = key_of(i) + PEPPER
        for user, h in rows:
            try:
                if ph.verify(h, secret):
                    break
            except Exception:
                pass
        per_key.append((time.perf_counter() - k0) * 1000)
    return (time.perf_counter() - t0) * 1000, per_key


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="/tmp/oa-bench-pub/openalgo-appliance")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keys", type=int, default=10)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--https-port", type=int, default=18443)
    ap.add_argument("--zmq-port", type=int, default=15555)
    ap.add_argument("--out", default=None)
    ap.add_argument("--time-cost", type=int, default=3)
    ap.add_argument("--memory-cost", type=int, default=65536)
    ap.add_argument("--parallelism", type=int, default=4)
    ap.add_argument("--no-emulation", action="store_true")
    ap.add_argument("--wait-quiet", type=float, default=0, help="before each run wait until the machine is below this %% busy (0 = don't)")
    ap.add_argument("--env", action="append", default=[], help="extra appliance environment KEY=VALUE (repeatable)")
    a = ap.parse_args()

    workdir = a.out or tempfile.mkdtemp(prefix="db-auth-")
    os.makedirs(workdir, exist_ok=True)
    ph = PasswordHasher(time_cost=a.time_cost, memory_cost=a.memory_cost, parallelism=a.parallelism)
    db_path = os.path.join(workdir, "openalgo.db")
    if os.path.exists(db_path):
        os.remove(db_path)
    make_db(db_path, a.keys + 1, ph)
    print(f"database {db_path}: {a.keys + 1} api_keys rows (t={a.time_cost}, m={a.memory_cost}, p={a.parallelism}); logs in {workdir}", flush=True)

    results = []
    for run in range(1, a.runs + 1):
        r = run_once(a, db_path, workdir, run)
        results.append(r)
        print(f"run {run}: " + " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True)

    print()
    print(f"| appliance, medians of {a.runs} fresh processes | value |")
    print("|---|---:|")
    for k in ["first_auth_ms", "cached_auth_ms", "ping_before_p50_ms", "ping_before_max_ms", "ping_during_p50_ms", "ping_during_p99_ms",
              "ping_during_max_ms", "longest_pong_gap_ms", "pings_during", "storm_first_reply_ms", "storm_last_reply_ms", "storm_ok"]:
        print(f"| {k} | {statistics.median([r[k] for r in results]):.1f} |")

    if not a.no_emulation:
        stalls = []
        for _ in range(3):
            total, per_key = emulate_openalgo(db_path, a.keys, ph)
            stalls.append(total)
            print(f"OpenAlgo verify_api_key emulation (argon2-cffi, sequential): {total:.0f} ms for keys 1..{a.keys}; per key "
                  + ", ".join(f"{x:.0f}" for x in per_key), flush=True)
        print(f"| OpenAlgo loop stall for the same storm (emulated, median of 3) | {statistics.median(stalls):.0f} ms |")


if __name__ == "__main__":
    sys.exit(main())
