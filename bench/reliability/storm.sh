#!/usr/bin/env bash
# Connect storms (docs/reliability.md, "Connect storms"): for each transport in TRANSPORTS, a fresh
# native server (started and stopped by PID by the harness) gets new clients at a rate that starts
# at START_RATE connections/s and grows by FACTOR every STEP_SECONDS — each one connects (TLS on wss),
# upgrades, authenticates, waits for the answer and hangs up — until more than 1 % of a step's
# attempts fail or more than MAX_IN_FLIGHT are pending at once; HOLD_CLIENTS clients connected
# beforehand must answer a ping after every step. Client sockets are bound to 127.0.0.1 …
# 127.0.0.$SOURCE_ADDRESSES in turn. It runs, per transport,
#   dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll storm
#       --server-binary BINARY --url wss://127.0.0.1:$HTTPS_PORT/ws (or ws://127.0.0.1:$INTERNAL_PORT/)
#       --https-listen 127.0.0.1:$HTTPS_PORT --internal-listen 127.0.0.1:$INTERNAL_PORT --zmq tcp://127.0.0.1:$ZMQ_PORT
#       --start-rate $START_RATE --factor $FACTOR --step-seconds $STEP_SECONDS --max-rate $MAX_RATE
#       --max-in-flight $MAX_IN_FLIGHT --source-addresses $SOURCE_ADDRESSES --hold-clients $HOLD_CLIENTS
#       --json $OUT/results.jsonl
# under the hard open-files limit. Exit 0 when every held client stayed answered.
#
# usage: bench/reliability/storm.sh                                        # ws and wss, up to the first errors
#        START_RATE=100 MAX_RATE=400 STEP_SECONDS=3 bench/reliability/storm.sh   # the bounded form
#
# Tunables: TRANSPORTS="ws wss" START_RATE=200 FACTOR=1.5 STEP_SECONDS=5 MAX_RATE=50000 MAX_IN_FLIGHT=4000
#   SOURCE_ADDRESSES=8 HOLD_CLIENTS=100 HTTPS_PORT=24443 INTERNAL_PORT=24765 ZMQ_PORT=24555
#   OUT=/tmp/storm-run/<timestamp> EXTRA_ARGS=""  BINARY=<repo>/publish/openalgo-appliance (published when missing:
#   dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o publish)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRANSPORTS="${TRANSPORTS:-ws wss}"
START_RATE="${START_RATE:-200}"
FACTOR="${FACTOR:-1.5}"
STEP_SECONDS="${STEP_SECONDS:-5}"
MAX_RATE="${MAX_RATE:-50000}"
MAX_IN_FLIGHT="${MAX_IN_FLIGHT:-4000}"
SOURCE_ADDRESSES="${SOURCE_ADDRESSES:-8}"
HOLD_CLIENTS="${HOLD_CLIENTS:-100}"
HTTPS_PORT="${HTTPS_PORT:-24443}"
INTERNAL_PORT="${INTERNAL_PORT:-24765}"
ZMQ_PORT="${ZMQ_PORT:-24555}"
OUT="${OUT:-/tmp/storm-run/$(date +%Y%m%d-%H%M%S)}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
NAME=storm
# shellcheck source=bench/reliability/common.sh
source "$REPO/bench/reliability/common.sh"
ulimit -n "$(ulimit -Hn)"
rc=0
for transport in $TRANSPORTS; do
  if [[ "$transport" == wss ]]; then url="wss://127.0.0.1:$HTTPS_PORT/ws"; else url="ws://127.0.0.1:$INTERNAL_PORT/"; fi
  log "$transport: server $BINARY; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  set +e
  # shellcheck disable=SC2086
  timeout -k 10 1800 dotnet "$HARNESS_DLL" storm \
      --server-binary "$BINARY" --url "$url" \
      --https-listen "127.0.0.1:$HTTPS_PORT" --internal-listen "127.0.0.1:$INTERNAL_PORT" --zmq "tcp://127.0.0.1:$ZMQ_PORT" \
      --state-dir "$OUT/state-$transport" --logs-dir "$OUT/logs-$transport" --server-log "$OUT/server-$transport.log" \
      --start-rate "$START_RATE" --factor "$FACTOR" --step-seconds "$STEP_SECONDS" --max-rate "$MAX_RATE" \
      --max-in-flight "$MAX_IN_FLIGHT" --source-addresses "$SOURCE_ADDRESSES" --hold-clients "$HOLD_CLIENTS" \
      --max-seconds 1790 --label "storm $transport" --json "$OUT/results.jsonl" $EXTRA_ARGS 2>&1 | tee "$OUT/storm-$transport.log"
  r=${PIPESTATUS[0]}
  set -e
  [[ "$r" == 0 ]] || rc=$r
done
log "done: $OUT (exit $rc; load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$rc"
