#!/usr/bin/env bash
# Twice the largest rate in docs/benchmarks.md with slow consumers mixed in (docs/reliability.md,
# "Overload with slow consumers"): the native server, started and stopped by PID by the harness,
# gets CLIENTS fast clients over TRANSPORT, each subscribed to SYMBOLS symbols of UNIVERSE, and
# SLOW_CLIENTS slow ones, each with a fast client's symbols, that pause SLOW_PAUSE_MS after every frame
# they read; the feeder publishes RATE ticks/s for DURATION seconds. Loss and latency are the fast
# clients'; the slow ones report the share of the fast ones' ticks they got (the rest conflated)
# and whether any was disconnected. Every SAMPLE seconds the server's CPU and RSS go to $OUT/samples.tsv.
# It runs
#   dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll throughput
#       --server-binary BINARY --url ws://127.0.0.1:$INTERNAL_PORT/ (or wss://127.0.0.1:$HTTPS_PORT/ws)
#       --https-listen 127.0.0.1:$HTTPS_PORT --internal-listen 127.0.0.1:$INTERNAL_PORT --zmq tcp://127.0.0.1:$ZMQ_PORT
#       --clients $CLIENTS --symbols $SYMBOLS --universe $UNIVERSE --rate $RATE --duration $DURATION --warmup $WARMUP
#       --slow-clients $SLOW_CLIENTS --slow-pause-ms $SLOW_PAUSE_MS --batch-ms $BATCH_MS
#       --sample-seconds $SAMPLE --samples $OUT/samples.tsv --json $OUT/results.jsonl
# Exit 0 when the fast clients lost nothing and none of them was disconnected. Slow clients that
# cannot keep up are conflated and, once the server has been unable to send them anything for
# Limits:SlowClientTimeoutSeconds (30 s), closed with 1008 — as configured; the summary line says so.
#
# usage: bench/reliability/overload.sh                         # 140,000 ticks/s for 10 minutes
#        DURATION=20 bench/reliability/overload.sh             # the bounded form
#
# Tunables: RATE=140000 CLIENTS=4 SYMBOLS=250 UNIVERSE=1000 SLOW_CLIENTS=4 SLOW_PAUSE_MS=20 DURATION=600
#   WARMUP=10 SAMPLE=10 BATCH_MS=5 TRANSPORT=ws HTTPS_PORT=25443 INTERNAL_PORT=25765 ZMQ_PORT=25555
#   OUT=/tmp/overload-run/<timestamp> EXTRA_ARGS=""  BINARY=<repo>/publish/openalgo-appliance (published when missing:
#   dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o publish)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RATE="${RATE:-140000}"
CLIENTS="${CLIENTS:-4}"
SYMBOLS="${SYMBOLS:-250}"
UNIVERSE="${UNIVERSE:-1000}"
SLOW_CLIENTS="${SLOW_CLIENTS:-4}"
SLOW_PAUSE_MS="${SLOW_PAUSE_MS:-20}"
DURATION="${DURATION:-600}"
WARMUP="${WARMUP:-10}"
SAMPLE="${SAMPLE:-10}"
BATCH_MS="${BATCH_MS:-5}"
TRANSPORT="${TRANSPORT:-ws}"
HTTPS_PORT="${HTTPS_PORT:-25443}"
INTERNAL_PORT="${INTERNAL_PORT:-25765}"
ZMQ_PORT="${ZMQ_PORT:-25555}"
OUT="${OUT:-/tmp/overload-run/$(date +%Y%m%d-%H%M%S)}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
NAME=overload
# shellcheck source=bench/reliability/common.sh
source "$REPO/bench/reliability/common.sh"
if [[ "$TRANSPORT" == wss ]]; then url="wss://127.0.0.1:$HTTPS_PORT/ws"; else url="ws://127.0.0.1:$INTERNAL_PORT/"; fi
log "server $BINARY; $RATE ticks/s to $CLIENTS fast and $SLOW_CLIENTS slow $TRANSPORT clients for $DURATION s; results $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

limit=$(( DURATION + WARMUP + 600 ))
set +e
# shellcheck disable=SC2086
timeout -k 10 "$limit" dotnet "$HARNESS_DLL" throughput \
    --server-binary "$BINARY" --url "$url" \
    --https-listen "127.0.0.1:$HTTPS_PORT" --internal-listen "127.0.0.1:$INTERNAL_PORT" --zmq "tcp://127.0.0.1:$ZMQ_PORT" \
    --state-dir "$OUT/state" --logs-dir "$OUT/logs" --server-log "$OUT/server.log" \
    --clients "$CLIENTS" --symbols "$SYMBOLS" --universe "$UNIVERSE" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" \
    --slow-clients "$SLOW_CLIENTS" --slow-pause-ms "$SLOW_PAUSE_MS" --batch-ms "$BATCH_MS" --drain 30 \
    --sample-seconds "$SAMPLE" --samples "$OUT/samples.tsv" --max-seconds $((limit - 5)) --json "$OUT/results.jsonl" $EXTRA_ARGS 2>&1 | tee "$OUT/overload.log"
rc=${PIPESTATUS[0]}
set -e
if [[ "$rc" == 0 ]]; then
  /usr/bin/python3 - "$OUT/results.jsonl" <<'PY' || rc=1
import json, sys
r = json.loads(open(sys.argv[1]).readlines()[-1])
m = {x["key"]: x["value"] for x in r["metrics"]}
bad = []
if (m.get("loss_pct") or 0) > 0: bad.append(f"fast clients lost {m['loss_pct']:.4f} %")
if m.get("clients_disconnected"): bad.append(f"{m['clients_disconnected']} fast clients disconnected")
slow = f"slow clients got {m.get('slow_delivered_share_pct', 0):.2f} % of the fast ones' window ticks (the rest conflated), {int(m.get('slow_disconnected') or 0)} of {int(m.get('slow_clients') or 0)} closed as too slow; the newest tick they had read was {m.get('slow_staleness_mean_s') or 0:.1f} s old at the window's end"
print("overload: " + ("FAILED: " + "; ".join(bad) if bad else "fast clients lost nothing, none disconnected; " + slow))
sys.exit(1 if bad else 0)
PY
fi
log "done: $OUT (exit $rc; load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$rc"
