#!/usr/bin/env bash
# permessage-deflate end to end over wss: bytes on the wire per tick and server CPU per delivery,
# without and with compression, in alternation (the same shape with --deflate right after the one
# without), each run a fresh server through bench/run.sh.
#
#   bench/deflate/wire.sh                                   # RUNS=3 DURATION=10 WARMUP=3, all shapes
#   RUNS=1 SHAPES=throughput MODES=2 bench/deflate/wire.sh  # quick
#
# Shapes (openalgo-bench throughput/fanout, see bench/README.md):
#   throughput  3 clients x the same 1000 symbols, RATE ticks/s (default 10000): 3 deliveries per tick
#   fanout      1000 clients x 20 of 1000 symbols, 1000 ticks/s: 20 deliveries per tick (mode 2 only)
#   single      1 client x 1000 symbols, SINGLE_RATE ticks/s (default 5000): one delivery per tick,
#               so one compression per delivery (the worst case; mode 2 only)
# Tunables: RUNS MODES ("1 2 3") SHAPES ("throughput fanout single") RATE SINGLE_RATE DURATION WARMUP
#   SERVER_BINARY (default <repo>/publish/openalgo-appliance, published by run.sh when missing)
#   OUT (default /tmp/deflate-wire/<timestamp>: results.jsonl, bench.log, summary.md)
#   HTTPS_PORT=28443 INTERNAL_PORT=28765 ZMQ_PORT=25555 (not run.sh's defaults)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-3}"
MODES="${MODES:-1 2 3}"
SHAPES="${SHAPES:-throughput fanout single}"
RATE="${RATE:-10000}"
SINGLE_RATE="${SINGLE_RATE:-5000}"
export DURATION="${DURATION:-10}" WARMUP="${WARMUP:-3}"
export OUT="${OUT:-/tmp/deflate-wire/$(date +%Y%m%d-%H%M%S)}"
export TRANSPORTS=wss
# Ports and directories of their own, so a bench/run.sh or demo someone else runs does not collide.
export HTTPS_PORT="${HTTPS_PORT:-28443}" INTERNAL_PORT="${INTERNAL_PORT:-28765}" ZMQ_PORT="${ZMQ_PORT:-25555}"
export STATE_DIR="${STATE_DIR:-$OUT/state}" LOGS_DIR="${LOGS_DIR:-$OUT/logs}"
mkdir -p "$OUT"

one() { # shape scenario mode deflate(off|on) extra...
  local shape=$1 scenario=$2 mode=$3 deflate=$4; shift 4
  local flag=""
  [[ "$deflate" == "on" ]] && flag="--deflate"
  RUNS=1 SCENARIOS="$scenario" EXTRA_ARGS="--mode $mode $flag $* --label $shape-mode$mode-deflate-$deflate" \
    "$REPO/bench/run.sh" || echo "run failed: $shape mode $mode deflate $deflate" >&2
}

for run in $(seq 1 "$RUNS"); do
  echo "### run $run/$RUNS" >&2
  for shape in $SHAPES; do
    case "$shape" in
      throughput) for mode in $MODES; do for d in off on; do one throughput throughput "$mode" "$d" --clients 3 --symbols 1000 --universe 1000 --rate "$RATE"; done; done ;;
      fanout) for d in off on; do one fanout fanout 2 "$d"; done ;;
      single) for d in off on; do one single throughput 2 "$d" --clients 1 --symbols 1000 --universe 1000 --rate "$SINGLE_RATE"; done ;;
      *) echo "unknown shape $shape" >&2; exit 2 ;;
    esac
  done
done

dotnet "$REPO/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll" summarize "$OUT/results.jsonl" | tee "$OUT/summary.md"
