#!/usr/bin/env python3
"""One TLS handshake-rate run, and the median table over many (bench/tls/run.sh drives both).

  measure.py run --server NAME --pids PID[,PID...] --port PORT --proto 1.2|1.3 --mode new|reuse
                 --tool s_time|tlshs --clients C --time T --out results.jsonl [--tlshs PATH] [--label L]
  measure.py summarize results.jsonl > summary.md

`run` waits (bounded) for the machine to be quiet, starts C client processes in parallel against
127.0.0.1:PORT, each for T seconds (killed at T+30 s), and records one JSON line:
  rate      = sum of connections / wall seconds of the whole run (first start to last exit)
  resumed   = fraction of connections that were resumed (s_time prints 'r' per resumed connection)
  server_cpu_pct = utime+stime of the server PIDs (and, for nginx, of every child of a PID) over the
                   run / wall, in % of one core (200 % = both cores)
  client_cpu_pct = the clients' CPU (getrusage of reaped children), same unit
  foreign_cpu_pct = all busy CPU in /proc/stat (user+nice+system+irq+softirq) minus server minus
                   clients: what other work on this shared machine took during the run
  disturbed = foreign_cpu_pct > --max-foreign (default 15 % of one core) or steal > the same
plus /proc/loadavg before and after.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
CIPHER12 = "ECDHE-ECDSA-AES128-GCM-SHA256"
SUITE13 = "TLS_AES_128_GCM_SHA256"


def proc_stat_cpu():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return {"busy": user + nice + system + irq + softirq, "steal": steal, "softirq": softirq}


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def pid_jiffies(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        rest = s[s.rindex(")") + 2:].split()
        return int(rest[11]) + int(rest[12])  # utime, stime (fields 14, 15)
    except (OSError, ValueError):
        return 0


def server_pids(roots):
    pids = set()
    for p in roots:
        pids.add(p)
        pids.update(children_of(p))  # nginx workers are children of the master
    return sorted(pids)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_quiet(limit_cores, max_wait):
    """Wait until the machine's busy CPU over 1 s is below limit_cores, at most max_wait seconds."""
    start = time.monotonic()
    while True:
        a = proc_stat_cpu()
        time.sleep(1.0)
        b = proc_stat_cpu()
        busy = (b["busy"] - a["busy"]) / CLK_TCK
        if busy < limit_cores or time.monotonic() - start > max_wait:
            return round(busy * 100, 1), round(time.monotonic() - start, 1)


def client_command(a):
    target = f"127.0.0.1:{a.port}"
    proto = ["-tls1_2", "-cipher", CIPHER12] if a.proto == "1.2" else ["-tls1_3", "-ciphersuites", SUITE13]
    if a.tool == "s_time":
        cmd = ["openssl", "s_time", "-connect", target, *proto, f"-{a.mode}", "-time", str(a.time)]
    else:
        cmd = [a.tlshs, "-connect", target, *proto, f"-{a.mode}", "-time", str(a.time), "-ignore-eof"]
    if a.www:
        cmd += ["-www", a.www]
    return cmd


def parse_output(tool, text):
    """-> (connections, resumed)"""
    if tool == "s_time":
        m = re.search(r"^(\d+) connections in [\d.]+ real seconds", text, re.M) or re.search(r"^(\d+) connections in ", text, re.M)
        conns = int(m.group(1)) if m else 0
        # Progress characters sit between "starting" and the result line: 'r' resumed, '*' new.
        body = text.split("starting", 1)[-1] if "starting" in text else text.split("seconds", 1)[-1]
        body = body.split("\n\n", 1)[0] if "connections in" in body else body
        body = re.sub(r"\d+ connections in.*", "", body, flags=re.S)
        return conns, body.count("r")
    m = re.search(r"conns=(\d+) resumed=(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def cmd_run(a):
    quiet_busy, quiet_wait = wait_quiet(a.quiet_cores, a.max_quiet_wait)
    roots = [int(p) for p in a.pids.split(",") if p]
    pids = server_pids(roots)
    cmd = client_command(a)
    load_before = loadavg()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = proc_stat_cpu()
    srv0 = {p: pid_jiffies(p) for p in pids}
    t0 = time.monotonic()
    procs = []
    outs = []
    for i in range(a.clients):
        out = open(f"{a.tmp}/client.{os.getpid()}.{i}.out", "w+")
        outs.append(out)
        procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    deadline = t0 + a.time + 30
    killed = False
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            killed = True
    t1 = time.monotonic()
    cpu1 = proc_stat_cpu()
    srv1 = {p: pid_jiffies(p) for p in pids}
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = loadavg()
    wall = t1 - t0
    conns = resumed = 0
    errors = []
    for p, out in zip(procs, outs):
        out.seek(0)
        text = out.read()
        out.close()
        os.unlink(out.name)
        c, r = parse_output(a.tool, text)
        conns += c
        resumed += r
        if p.returncode != 0 or c == 0:
            errors.append(text[-300:])
    server_s = sum(srv1.get(p, 0) - srv0.get(p, 0) for p in pids) / CLK_TCK
    client_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    busy_s = (cpu1["busy"] - cpu0["busy"]) / CLK_TCK
    steal_s = (cpu1["steal"] - cpu0["steal"]) / CLK_TCK
    foreign_s = max(0.0, busy_s - server_s - client_s)
    rec = {
        "server": a.server, "label": a.label, "tool": a.tool, "clients": a.clients, "proto": a.proto, "mode": a.mode,
        "www": a.www, "time": a.time, "run": a.run, "attempt": a.attempt,
        "conns": conns, "resumed": round(resumed / conns, 4) if conns else 0.0,
        "wall_s": round(wall, 3), "rate": round(conns / wall, 1) if wall else 0.0,
        "server_cpu_pct": round(100 * server_s / wall, 1), "client_cpu_pct": round(100 * client_s / wall, 1),
        "foreign_cpu_pct": round(100 * foreign_s / wall, 1), "steal_pct": round(100 * steal_s / wall, 1),
        "server_pids": pids, "loadavg_before": load_before, "loadavg_after": load_after,
        "quiet_busy_pct": quiet_busy, "quiet_wait_s": quiet_wait, "killed": killed, "errors": errors,
        "command": " ".join(cmd), "unix_time": int(time.time()),
    }
    rec["disturbed"] = bool(rec["foreign_cpu_pct"] > a.max_foreign or rec["steal_pct"] > a.max_foreign or killed or errors)
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"{a.server:10} {a.tool:6} c={a.clients} TLS{a.proto} {a.mode:5} run{a.run}.{a.attempt}: {rec['rate']:8.1f}/s "
          f"resumed {100 * rec['resumed']:5.1f}% server {rec['server_cpu_pct']:5.1f}% client {rec['client_cpu_pct']:5.1f}% "
          f"foreign {rec['foreign_cpu_pct']:4.1f}% load {load_before} -> {load_after}{'  DISTURBED' if rec['disturbed'] else ''}",
          flush=True)
    # Exit status 3 tells run.sh to repeat the run.
    return 3 if rec["disturbed"] else 0


SERVERS = [("appliance", "appliance"), ("nginx2", "nginx, 2 workers"), ("nginx1", "nginx, 1 worker")]
CELLS = [("new", "1.2", "full TLS 1.2"), ("new", "1.3", "full TLS 1.3"), ("reuse", "1.2", "resumed TLS 1.2"), ("reuse", "1.3", "resumed TLS 1.3")]


def pick(records):
    """The runs of one cell: per run number the last attempt, preferring undisturbed ones."""
    by_run = {}
    for r in records:
        cur = by_run.get(r["run"])
        if cur is None or (cur["disturbed"] and not r["disturbed"]) or (cur["disturbed"] == r["disturbed"] and r["attempt"] > cur["attempt"]):
            by_run[r["run"]] = r
    return [by_run[k] for k in sorted(by_run)]


def cmd_summarize(a):
    recs = [json.loads(l) for l in open(a.results) if l.strip()]
    groups = sorted({(r["tool"], r["clients"], r["www"]) for r in recs}, key=lambda g: (g[0] != "s_time", g[1], g[2]))
    out = []
    for tool, clients, www in groups:
        sel = [r for r in recs if (r["tool"], r["clients"], r["www"]) == (tool, clients, www)]
        client = "openssl s_time" if tool == "s_time" else "tlshs -ignore-eof"
        out.append(f"#### {client}, {clients} client process{'es' if clients > 1 else ''} in parallel{', -www ' + www if www else ', handshake only (no -www)'}\n")
        out.append("Median of runs (each run 1 row in results.jsonl); handshakes/s summed over the client processes. "
                   "`srv` = server CPU, `cli` = client CPU (% of one core; the machine has 200 %), "
                   "`res` = share of connections actually resumed, `hs/core-s` = handshakes per second of server CPU.\n")
        out.append("| cell | " + " | ".join(label for _, label in SERVERS) + " | appliance / nginx 2w | appliance / nginx 1w |")
        out.append("|---|" + "---|" * (len(SERVERS) + 2))
        for mode, proto, label in CELLS:
            row = [label]
            med = {}
            for server, _ in SERVERS:
                rs = pick([r for r in sel if r["server"] == server and r["mode"] == mode and r["proto"] == proto])
                if not rs:
                    row.append("–")
                    continue
                rate = statistics.median(r["rate"] for r in rs)
                srv = statistics.median(r["server_cpu_pct"] for r in rs)
                cli = statistics.median(r["client_cpu_pct"] for r in rs)
                res = statistics.median(r["resumed"] for r in rs)
                eff = statistics.median(r["rate"] / (r["server_cpu_pct"] / 100) for r in rs if r["server_cpu_pct"] > 0)
                dist = sum(r["disturbed"] for r in rs)
                med[server] = (rate, eff)
                cell = f"**{rate:,.0f}**/s<br>srv {srv:.0f}% cli {cli:.0f}%<br>{eff:,.0f} hs/core-s"
                if mode == "reuse":
                    cell += f"<br>res {100 * res:.0f}%"
                if len(rs) < 3 or dist:
                    cell += f"<br>({len(rs)} runs{f', {dist} disturbed' if dist else ''})"
                row.append(cell)
            for other in ("nginx2", "nginx1"):
                if "appliance" in med and other in med:
                    (ra, ea), (rn, en) = med["appliance"], med[other]
                    row.append(f"rate {ra / rn:.2f}×<br>CPU-eff {ea / en:.2f}×")
                else:
                    row.append("–")
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    # Per-run detail
    out.append("#### Every run\n")
    out.append("| tool | c | server | cell | run.attempt | hs/s | resumed | srv % | cli % | foreign % | loadavg before → after | used |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    chosen = set()
    for tool, clients, www in groups:
        for server, _ in SERVERS:
            for mode, proto, _ in CELLS:
                for r in pick([r for r in recs if (r["tool"], r["clients"], r["www"], r["server"], r["mode"], r["proto"]) == (tool, clients, www, server, mode, proto)]):
                    chosen.add(id(r))
    for r in recs:
        out.append(f"| {r['tool']} | {r['clients']} | {r['server']} | {'full' if r['mode'] == 'new' else 'resumed'} TLS {r['proto']} | {r['run']}.{r['attempt']} | "
                   f"{r['rate']:,.0f} | {100 * r['resumed']:.0f}% | {r['server_cpu_pct']:.0f} | {r['client_cpu_pct']:.0f} | {r['foreign_cpu_pct']:.0f} | "
                   f"{r['loadavg_before']} → {r['loadavg_after']} | {'yes' if id(r) in chosen else 'no'}{' (disturbed)' if r['disturbed'] else ''} |")
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--server", required=True)
    r.add_argument("--label", default="")
    r.add_argument("--pids", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--proto", choices=["1.2", "1.3"], required=True)
    r.add_argument("--mode", choices=["new", "reuse"], required=True)
    r.add_argument("--tool", choices=["s_time", "tlshs"], default="s_time")
    r.add_argument("--tlshs", default="tlshs")
    r.add_argument("--clients", type=int, default=1)
    r.add_argument("--time", type=int, default=10)
    r.add_argument("--www", default="/")
    r.add_argument("--run", type=int, default=1)
    r.add_argument("--attempt", type=int, default=1)
    r.add_argument("--out", required=True)
    r.add_argument("--tmp", default="/tmp")
    r.add_argument("--max-foreign", type=float, default=15.0, help="% of one core")
    r.add_argument("--quiet-cores", type=float, default=0.25)
    r.add_argument("--max-quiet-wait", type=float, default=120)
    s = sub.add_parser("summarize")
    s.add_argument("results")
    a = ap.parse_args()
    if a.cmd == "run":
        if a.time < 1 or a.time > 120 or a.clients < 1 or a.clients > 8:
            sys.exit("--time must be 1..120 s and --clients 1..8")
        sys.exit(cmd_run(a))
    cmd_summarize(a)


if __name__ == "__main__":
    main()
