#!/usr/bin/env bash
# One client must not stall everyone: a quiet client's tick latency while K hostile clients send
# huge subscribe/unsubscribe lists and many-key JSON objects, compared across server builds.
#
# usage: bench/hostile/run.sh                                  # the current build, 3 runs
#        VARIANTS="before=/tmp/old/openalgo-appliance after=publish/openalgo-appliance" bench/hostile/run.sh
#        VARIANTS="after=publish/openalgo-appliance raised=publish/openalgo-appliance,Appliance__Limits__MaxKeysPerObject=100000" bench/hostile/run.sh
#
# A variant is NAME=BINARY[,KEY=VALUE...]: the server binary and extra server environment. For run in
# 1..RUNS, for every variant in turn (interleaved, so drift on a shared machine hits all alike), it runs
#   dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll hostile
#       --server-binary BINARY [--server-env KEY=VALUE ...] --url ws://127.0.0.1:$INTERNAL_PORT/
#       --https-listen 127.0.0.1:$HTTPS_PORT --internal-listen 127.0.0.1:$INTERNAL_PORT --zmq tcp://127.0.0.1:$ZMQ_PORT
#       --clients $HOSTILE --symbols $QUIET_SYMBOLS --rate $RATE --phase $PHASE
#       --hostile-symbols $HOSTILE_SYMBOLS --hostile-keys $HOSTILE_KEYS --json $OUT/results.jsonl --label NAME
# (a fresh server per run, started and stopped by PID by the harness), then prints the median table
# (openalgo-bench summarize) and saves it to $OUT/summary.md.
#
# Tunables: RUNS=3 HOSTILE=4 QUIET_SYMBOLS=50 RATE=1000 PHASE=15 HOSTILE_SYMBOLS=10000 HOSTILE_KEYS=40000
#   HTTPS_PORT=21443 INTERNAL_PORT=21765 ZMQ_PORT=21555 (not bench/run.sh's, so both can run)
#   OUT=/tmp/hostile-bench/<timestamp>  EXTRA_ARGS="" (more harness options)
#   VARIANTS="after=<repo>/publish/openalgo-appliance" (published when missing:
#   dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o publish)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-3}"
HOSTILE="${HOSTILE:-4}"
QUIET_SYMBOLS="${QUIET_SYMBOLS:-50}"
RATE="${RATE:-1000}"
PHASE="${PHASE:-15}"
HOSTILE_SYMBOLS="${HOSTILE_SYMBOLS:-10000}"
HOSTILE_KEYS="${HOSTILE_KEYS:-40000}"
HTTPS_PORT="${HTTPS_PORT:-21443}"
INTERNAL_PORT="${INTERNAL_PORT:-21765}"
ZMQ_PORT="${ZMQ_PORT:-21555}"
OUT="${OUT:-/tmp/hostile-bench/$(date +%Y%m%d-%H%M%S)}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
VARIANTS="${VARIANTS:-after=$REPO/publish/openalgo-appliance}"
HARNESS_DLL="$REPO/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll"

log() { echo "[hostile $(date +%H:%M:%S)] $*" >&2; }

if [[ "$VARIANTS" == "after=$REPO/publish/openalgo-appliance" && ! -x "$REPO/publish/openalgo-appliance" ]]; then
  log "publishing the server (native AOT) to $REPO/publish ..."
  dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$REPO/publish"
fi
log "building the load generator ..."
dotnet build "$REPO/bench/OpenAlgo.Appliance.Bench" -c Release --nologo -v quiet
mkdir -p "$OUT"
log "results: $OUT/results.jsonl"

limit=$(( ${PHASE%.*} * 4 + 180 ))
failures=0
for run in $(seq 1 "$RUNS"); do
  for variant in $VARIANTS; do
    name="${variant%%=*}"
    spec="${variant#*=}"
    IFS=',' read -r -a parts <<<"$spec"
    binary="${parts[0]}"
    env_args=()
    for kv in "${parts[@]:1}"; do env_args+=(--server-env "$kv"); done
    log "== $name run $run/$RUNS ($binary ${parts[*]:1}; load average $(cut -d' ' -f1 /proc/loadavg))"
    set +e
    # shellcheck disable=SC2086
    timeout -k 10 "$limit" dotnet "$HARNESS_DLL" hostile \
        --server-binary "$binary" "${env_args[@]}" \
        --url "ws://127.0.0.1:$INTERNAL_PORT/" --https-listen "127.0.0.1:$HTTPS_PORT" --internal-listen "127.0.0.1:$INTERNAL_PORT" \
        --zmq "tcp://127.0.0.1:$ZMQ_PORT" --state-dir "$OUT/state" --logs-dir "$OUT/logs" --server-log "$OUT/server-$name.log" \
        --clients "$HOSTILE" --symbols "$QUIET_SYMBOLS" --rate "$RATE" --phase "$PHASE" \
        --hostile-symbols "$HOSTILE_SYMBOLS" --hostile-keys "$HOSTILE_KEYS" \
        --max-seconds $((limit - 5)) --json "$OUT/results.jsonl" --label "$name" $EXTRA_ARGS 2>&1 | tee -a "$OUT/bench.log"
    rc=${PIPESTATUS[0]}
    set -e
    if (( rc != 0 )); then
      log "run failed (exit $rc)"
      failures=$((failures + 1))
    fi
  done
done

[[ -s "$OUT/results.jsonl" ]] && dotnet "$HARNESS_DLL" summarize "$OUT/results.jsonl" | tee "$OUT/summary.md"
log "done: $OUT (failed runs: $failures)"
exit $(( failures > 0 ))
