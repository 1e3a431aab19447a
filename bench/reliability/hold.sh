#!/usr/bin/env bash
# 10,000 authenticated wss clients held with ticks flowing (docs/reliability.md, "10,000 wss clients
# held"): the native server, started and stopped by PID by the harness, gets CLIENTS connections on
# /ws over TLS, each authenticated and subscribed to SYMBOLS symbols of UNIVERSE, while the feeder
# publishes RATE ticks/s on the ZeroMQ bus for DURATION seconds. Every SAMPLE seconds the server's CPU,
# RSS, threads and fds, the clients still open and the load average are logged and written to
# $OUT/samples.tsv. It runs
#   dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll throughput
#       --server-binary BINARY --url wss://127.0.0.1:$HTTPS_PORT/ws
#       --https-listen 127.0.0.1:$HTTPS_PORT --internal-listen 127.0.0.1:$INTERNAL_PORT --zmq tcp://127.0.0.1:$ZMQ_PORT
#       --clients $CLIENTS --symbols $SYMBOLS --universe $UNIVERSE --rate $RATE --duration $DURATION --warmup $WARMUP
#       --recv-buffer 4096 --read-buffer 4096 --sample-seconds $SAMPLE --samples $OUT/samples.tsv --json $OUT/results.jsonl
# under the hard open-files limit (10,000 connections need more than 10,000 fds on each side).
# Exit 0 only when every client was connected, none was disconnected, every one got ticks during
# the window and no tick was lost.
#
# usage: bench/reliability/hold.sh                                  # 10,000 wss clients for 10 minutes
#        CLIENTS=500 DURATION=20 bench/reliability/hold.sh          # the bounded form (about a minute)
#        TRANSPORT=ws bench/reliability/hold.sh                     # the internal listener instead
#
# Tunables: CLIENTS=10000 SYMBOLS=2 UNIVERSE=1000 RATE=1000 DURATION=600 WARMUP=10 SAMPLE=10 TRANSPORT=wss
#   HTTPS_PORT=23443 INTERNAL_PORT=23765 ZMQ_PORT=23555  OUT=/tmp/hold-run/<timestamp>  EXTRA_ARGS=""
#   BINARY=<repo>/publish/openalgo-appliance (published when missing:
#   dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o publish)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLIENTS="${CLIENTS:-10000}"
SYMBOLS="${SYMBOLS:-2}"
UNIVERSE="${UNIVERSE:-1000}"
RATE="${RATE:-1000}"
DURATION="${DURATION:-600}"
WARMUP="${WARMUP:-10}"
SAMPLE="${SAMPLE:-10}"
TRANSPORT="${TRANSPORT:-wss}"
HTTPS_PORT="${HTTPS_PORT:-23443}"
INTERNAL_PORT="${INTERNAL_PORT:-23765}"
ZMQ_PORT="${ZMQ_PORT:-23555}"
OUT="${OUT:-/tmp/hold-run/$(date +%Y%m%d-%H%M%S)}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
NAME=hold
# shellcheck source=bench/reliability/common.sh
source "$REPO/bench/reliability/common.sh"
ulimit -n "$(ulimit -Hn)"
if [[ "$TRANSPORT" == wss ]]; then url="wss://127.0.0.1:$HTTPS_PORT/ws"; else url="ws://127.0.0.1:$INTERNAL_PORT/"; fi
log "server $BINARY; $CLIENTS $TRANSPORT clients x $SYMBOLS symbols, $RATE ticks/s for $DURATION s; open files $(ulimit -n); results $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

limit=$(( DURATION + WARMUP + 900 ))
set +e
# shellcheck disable=SC2086
timeout -k 10 "$limit" dotnet "$HARNESS_DLL" throughput \
    --server-binary "$BINARY" --url "$url" \
    --https-listen "127.0.0.1:$HTTPS_PORT" --internal-listen "127.0.0.1:$INTERNAL_PORT" --zmq "tcp://127.0.0.1:$ZMQ_PORT" \
    --state-dir "$OUT/state" --logs-dir "$OUT/logs" --server-log "$OUT/server.log" \
    --clients "$CLIENTS" --symbols "$SYMBOLS" --universe "$UNIVERSE" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" \
    --drain 30 --connect-timeout 600 --recv-buffer 4096 --read-buffer 4096 \
    --sample-seconds "$SAMPLE" --samples "$OUT/samples.tsv" --max-seconds $((limit - 5)) --json "$OUT/results.jsonl" $EXTRA_ARGS 2>&1 | tee "$OUT/hold.log"
rc=${PIPESTATUS[0]}
set -e
if [[ "$rc" == 0 ]]; then
  # The harness exits 0 when ticks flowed; the hold is held only if nobody was lost on the way.
  /usr/bin/python3 - "$OUT/results.jsonl" "$CLIENTS" <<'PY' || rc=1
import json, sys
r = json.loads(open(sys.argv[1]).readlines()[-1])
m = {x["key"]: x["value"] for x in r["metrics"]}
bad = []
if m.get("clients") != int(sys.argv[2]): bad.append(f"connected {m.get('clients')} of {sys.argv[2]}")
if m.get("clients_disconnected"): bad.append(f"{m['clients_disconnected']} disconnected")
if m.get("clients_without_ticks"): bad.append(f"{m['clients_without_ticks']} clients got no tick")
if (m.get("loss_pct") or 0) > 0: bad.append(f"loss {m['loss_pct']:.4f} %")
print("hold: " + ("FAILED: " + "; ".join(bad) if bad else "every connection alive, every client ticked, nothing lost"))
sys.exit(1 if bad else 0)
PY
fi
log "done: $OUT (exit $rc; load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$rc"
