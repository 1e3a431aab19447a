#!/usr/bin/env bash
# The long form of the fuzz tests (docs/reliability.md, "Protocol fuzz" and "HTTP edge"): the native
# server, started and stopped by PID by the harness, gets FRAMES generated frames (valid and hostile)
# on /ws over TLS and on its internal listener, and mutated HTTP requests alongside, while one quiet
# client receives ticks from the bus; then the server's log is scanned. It runs
#   dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll fuzz
#       --server-binary BINARY --url ws://127.0.0.1:$INTERNAL_PORT/
#       --https-listen 127.0.0.1:$HTTPS_PORT --internal-listen 127.0.0.1:$INTERNAL_PORT --zmq tcp://127.0.0.1:$ZMQ_PORT
#       --frames $FRAMES --workers $WORKERS --seed $SEED --phase $PHASE --http-concurrency $HTTP_CONCURRENCY
#       --json $OUT/results.jsonl
# and prints the result table. Exit 0 only when every answer was a spec answer, no HTTP request got
# a 5xx or hung, the quiet client lost no tick and was never disconnected, and the log has no
# ERR/FTL line and no stack trace.
#
# usage: bench/reliability/fuzz.sh                       # 1,000,000 frames (about 15 min on 2 cores)
#        FRAMES=50000 PHASE=10 bench/reliability/fuzz.sh  # a quick look
#        SEED=7 bench/reliability/fuzz.sh                 # replay a seed
#
# Tunables: FRAMES=1000000 WORKERS=8 SEED=1 PHASE=60 HTTP_CONCURRENCY=16 MAX_FUZZ_SECONDS=3600
#   HTTPS_PORT=22443 INTERNAL_PORT=22765 ZMQ_PORT=22555  OUT=/tmp/fuzz-run/<timestamp>  EXTRA_ARGS=""
#   BINARY=<repo>/publish/openalgo-appliance (published when missing:
#   dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o publish)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FRAMES="${FRAMES:-1000000}"
WORKERS="${WORKERS:-8}"
SEED="${SEED:-1}"
PHASE="${PHASE:-60}"
HTTP_CONCURRENCY="${HTTP_CONCURRENCY:-16}"
MAX_FUZZ_SECONDS="${MAX_FUZZ_SECONDS:-3600}"
HTTPS_PORT="${HTTPS_PORT:-22443}"
INTERNAL_PORT="${INTERNAL_PORT:-22765}"
ZMQ_PORT="${ZMQ_PORT:-22555}"
OUT="${OUT:-/tmp/fuzz-run/$(date +%Y%m%d-%H%M%S)}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
NAME=fuzz
# shellcheck source=bench/reliability/common.sh
source "$REPO/bench/reliability/common.sh"
log "server $BINARY; results $OUT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

limit=$(( MAX_FUZZ_SECONDS + ${PHASE%.*} * 2 + 300 ))
set +e
# shellcheck disable=SC2086
timeout -k 10 "$limit" dotnet "$HARNESS_DLL" fuzz \
    --server-binary "$BINARY" \
    --url "ws://127.0.0.1:$INTERNAL_PORT/" --https-listen "127.0.0.1:$HTTPS_PORT" --internal-listen "127.0.0.1:$INTERNAL_PORT" \
    --zmq "tcp://127.0.0.1:$ZMQ_PORT" --state-dir "$OUT/state" --logs-dir "$OUT/logs" --server-log "$OUT/server.log" \
    --frames "$FRAMES" --workers "$WORKERS" --seed "$SEED" --phase "$PHASE" --http-concurrency "$HTTP_CONCURRENCY" \
    --fuzz-seconds "$MAX_FUZZ_SECONDS" --max-seconds $((limit - 5)) --json "$OUT/results.jsonl" $EXTRA_ARGS 2>&1 | tee "$OUT/fuzz.log"
rc=${PIPESTATUS[0]}
set -e
log "done: $OUT (exit $rc; load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$rc"
