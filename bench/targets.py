#!/usr/bin/env python3
"""The issue-15 target table from a bench/run-all.sh output directory.

    /usr/bin/python3 bench/targets.py OUT_DIR

Reads OUT_DIR/{hub,hub70k,fanout,idle}/results.jsonl (openalgo-bench --json lines),
OUT_DIR/tls/results.jsonl (bench/tls/measure.py lines), OUT_DIR/proxy/results.tsv and
OUT_DIR/startup.log, takes medians of runs, and prints one markdown table: target, reference,
ours, verdict. Parts that did not run are left out.
"""
import json
import os
import re
import statistics
import sys

out = sys.argv[1]


def jsonl(path):
    if not os.path.exists(path):
        return []
    rows = []
    for line in open(path):
        if line.strip():
            rows.append(json.loads(line))
    return rows


def hub_rows(part):
    """label -> list of {metric: value}"""
    by = {}
    for r in jsonl(os.path.join(out, part, "results.jsonl")):
        by.setdefault(r["label"], []).append({m["key"]: m["value"] for m in r["metrics"]})
    return by


def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, f="{:.2f}"):
    return "–" if v is None else f.format(v)


lines = ["| target | reference (same run) | appliance | result |", "|---|---|---|---|"]

for part, rate in (("hub", "20,000"), ("hub70k", "70,000")):
    by = hub_rows(part)
    for transport, door in (("wss", "wss:// /ws"), ("ws", "internal listener")):
        ours = by.get(f"throughput {transport}", [])
        seed = by.get(f"seed throughput {transport}", [])
        if not ours:
            continue
        a = med(ours, "stack_cpu_us_per_received")
        s = med(seed, "stack_cpu_us_per_received")
        delivered = med([{"d": 100 - r["loss_pct"]} for r in ours if r.get("loss_pct") is not None], "d")
        p99 = med(ours, "latency_p99_ms")
        load = med(ours, "loadavg_1m")
        ratio = s / a if a and s else None
        seed_text = f"seed stack {fmt(s)} µs/delivery" if s else "–"
        verdict = []
        if ratio:
            verdict.append(f"{ratio:.1f}× less CPU ({'met' if ratio >= 60 else 'missed'}: ≥ 60×)")
        if part == "hub":
            verdict.append(f"delivered {fmt(delivered, '{:.2f}')} %, p99 {fmt(p99)} ms ({'met' if (delivered or 0) >= 99.999 and (p99 or 99) <= 1 else 'missed'}: 100 %, ≤ 1 ms)")
        lines.append(f"| 1. fan-out CPU, 3 × 1,000 symbols, {rate} ticks/s, {door} | {seed_text} | {fmt(a)} µs/delivery, p99 {fmt(p99)} ms, load {fmt(load, '{:.1f}')} | {'; '.join(verdict)} |")

by = hub_rows("fanout")
for transport in ("wss", "ws"):
    rows = by.get(f"fanout {transport}", [])
    if rows:
        a = med(rows, "server_cpu_us_per_msg")
        lines.append(f"| 2. many light clients, 1,000 × 20 symbols, 1,000 ticks/s, {transport} | ≤ 5 µs/delivery | {fmt(a)} µs/delivery, p99 {fmt(med(rows, 'latency_p99_ms'))} ms, load {fmt(med(rows, 'loadavg_1m'), '{:.1f}')} | {'met' if a is not None and a <= 5 else 'missed'} |")

by = hub_rows("idle")
for transport in ("wss", "ws"):
    rows = by.get(f"idle {transport}", [])
    if rows:
        kb = med(rows, "server_rss_per_conn_kb")
        rss = med(rows, "server_rss_mb")
        n = med(rows, "clients")
        lines.append(f"| 3. idle memory, {fmt(n, '{:.0f}')} authenticated idle {transport} connections | ≤ 250 MB, ≤ 25 kB each | {fmt(rss, '{:.0f}')} MB RSS, {fmt(kb, '{:.1f}')} kB each | {'met' if kb is not None and kb <= 25 and (rss or 1e9) <= 250 else 'missed'} |")

tls = jsonl(os.path.join(out, "tls", "results.jsonl"))
if tls:
    for mode, proto, label in (("new", "1.2", "full, TLS 1.2"), ("new", "1.3", "full, TLS 1.3"), ("reuse", "1.2", "resumed, TLS 1.2"), ("reuse", "1.3", "resumed, TLS 1.3")):
        rate = {}
        for server in ("appliance", "nginx1", "nginx2"):
            rs = [r for r in tls if r["server"] == server and r["mode"] == mode and r["proto"] == proto and r.get("tool") == "tlshs"]
            if rs:
                rate[server] = statistics.median(r["rate"] for r in rs)
        if "appliance" in rate:
            best = max(rate.get("nginx1", 0), rate.get("nginx2", 0))
            lines.append(f"| 4. TLS handshakes/s, {label} (tlshs, 2 clients) | nginx {fmt(rate.get('nginx1'), '{:,.0f}')} (1 worker), {fmt(rate.get('nginx2'), '{:,.0f}')} (2 workers) | {rate['appliance']:,.0f} | {'met' if best and rate['appliance'] >= best else 'missed'} ({rate['appliance'] / best:.2f}× the better nginx) |")

proxy = os.path.join(out, "proxy", "results.tsv")
if os.path.exists(proxy):
    rows = [l.rstrip("\n").split("\t") for l in open(proxy)][1:]
    for scenario, label in (("small", "small page, 32 connections"), ("1mib", "1 MiB download, 8 connections")):
        m = {}
        for fe in ("appliance", "nginx-install.sh"):
            sel = [r for r in rows if r[0] == scenario and r[1] == fe]
            if sel:
                m[fe] = (statistics.median(float(r[3]) for r in sel), statistics.median(float(r[5]) for r in sel))
        if "appliance" in m and "nginx-install.sh" in m:
            (ra, pa), (rn, pn) = m["appliance"], m["nginx-install.sh"]
            ok = ra >= rn and pa <= pn
            lines.append(f"| 5. proxy, {label} | install.sh's nginx {rn:,.0f} req/s, p99 {pn:.2f} ms | {ra:,.0f} req/s ({(ra / rn - 1) * 100:+.0f} %), p99 {pa:.2f} ms | {'met' if ok else 'missed'} |")

startup = os.path.join(out, "startup.log")
if os.path.exists(startup):
    text = open(startup).read()
    m = re.search(r"median time to ready (\d+) ms, median RSS at ready ([\d.]+) MB, load ([\d.]+)", text)
    if m:
        ms, mb = int(m.group(1)), float(m.group(2))
        lines.append(f"| 6. startup, demo mode: exec → READY, RSS at READY | ≤ 60 ms, ≤ 32 MB | {ms} ms, {mb:.1f} MB (load {m.group(3)}) | {'met' if ms <= 60 and mb <= 32 else 'missed'} |")

print("\n".join(lines))
if os.path.exists(os.path.join(out, "load.txt")):
    print("\nLoad average (1, 5, 15 min) at the start and end of each part:\n")
    for line in open(os.path.join(out, "load.txt")):
        print(f"- {line.strip()}")
