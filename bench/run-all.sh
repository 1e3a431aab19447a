#!/usr/bin/env bash
# Every speed target of issue 15 in one run, each next to its reference, and one table at the end.
#
#   bench/run-all.sh                                     # RUNS=3, about 60 minutes on the 2-vCPU machine
#   RUNS=1 DURATION=10 IDLE_CLIENTS=5000 bench/run-all.sh   # a quicker pass (about 25 minutes)
#   SERVER_BINARY=/path/to/openalgo-appliance OPENALGO_SRC=/path/to/openalgo bench/run-all.sh
#   PARTS="hub idle startup" bench/run-all.sh            # some parts only: hub hub70k fanout idle tls proxy startup
#
# What runs (every part uses the same native-AOT binary, SERVER_BINARY, published to
# <repo>/publish when missing):
#   hub      bench/run.sh, 3 clients x 1,000 symbols at 20,000 ticks/s, LTP, wss (/ws) and ws (the
#            internal listener), the appliance and the seed stack (OpenAlgo's proxy behind install.sh's
#            nginx, see bench/README.md) alternating run by run; CPU per delivery compared as
#            "stack CPU µs/received".
#   hub70k   the same at 70,000 ticks/s.
#   fanout   bench/run.sh fanout: 1,000 clients x 20 symbols at 1,000 ticks/s, wss and ws.
#   idle     bench/run.sh idle: IDLE_CLIENTS (10,000) authenticated idle connections, wss and ws.
#   tls      bench/tls/run.sh PLANS="tlshs:2": full and resumed handshakes/s, TLS 1.2 and 1.3, P-256,
#            against nginx with the same key (1 and 2 workers).
#   proxy    bench/proxy/run.sh SCENARIOS="small 1mib": requests/s and p99 against install.sh's nginx.
#   startup  bench/startup.py: exec -> READY and RSS at READY in demo mode, 5 runs.
# Every part writes its own directory under $OUT; bench/targets.py reads them all and prints
# the table (also in $OUT/targets.md), with the load average seen by each part.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
IDLE_CLIENTS="${IDLE_CLIENTS:-10000}"
PARTS="${PARTS:-hub hub70k fanout idle tls proxy startup}"
SERVER_BINARY="${SERVER_BINARY:-$REPO/publish/openalgo-appliance}"
OUT="${OUT:-/tmp/run-all/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
export OPENALGO_SRC="${OPENALGO_SRC:-$HOME/.cache/openalgo-appliance-bench/openalgo}"

log() { echo "[run-all $(date +%H:%M:%S)] $*" >&2; }

if [[ ! -x "$SERVER_BINARY" ]]; then
  log "publishing the appliance to $REPO/publish"
  dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$REPO/publish" >/dev/null
  SERVER_BINARY="$REPO/publish/openalgo-appliance"
fi
{
  echo "binary: $SERVER_BINARY ($(git -C "$REPO" log -1 --format=%h 2>/dev/null || echo '?'))"
  echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "started: $(date -Is), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

part() { # part <name> <command...>: runs one part, notes its load average, never stops the others
  local name=$1; shift
  log "== $name (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "$name start $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
  if ! "$@" >"$OUT/$name.log" 2>&1; then log "$name: failed (see $OUT/$name.log)"; fi
  echo "$name end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
}

for p in $PARTS; do
  case "$p" in
    hub) part hub env SERVER_BINARY="$SERVER_BINARY" STACKS="appliance seed" SCENARIOS=throughput TRANSPORTS="wss ws" \
           RUNS="$RUNS" DURATION="$DURATION" WARMUP="$WARMUP" OUT="$OUT/hub" bash "$REPO/bench/run.sh" ;;
    hub70k) part hub70k env SERVER_BINARY="$SERVER_BINARY" STACKS="appliance seed" SCENARIOS=throughput TRANSPORTS="wss ws" \
           RUNS="$RUNS" DURATION="$DURATION" WARMUP="$WARMUP" EXTRA_ARGS="--rate 70000" OUT="$OUT/hub70k" bash "$REPO/bench/run.sh" ;;
    fanout) part fanout env SERVER_BINARY="$SERVER_BINARY" SCENARIOS=fanout TRANSPORTS="wss ws" \
           RUNS="$RUNS" DURATION="$DURATION" WARMUP="$WARMUP" OUT="$OUT/fanout" bash "$REPO/bench/run.sh" ;;
    idle) part idle env SERVER_BINARY="$SERVER_BINARY" SCENARIOS=idle TRANSPORTS="wss ws" RUNS="$RUNS" \
           IDLE_CLIENTS="$IDLE_CLIENTS" IDLE_HOLD=5 OUT="$OUT/idle" bash "$REPO/bench/run.sh" ;;
    tls) part tls env SERVER_BINARY="$SERVER_BINARY" PLANS="tlshs:2" RUNS="$RUNS" OUT="$OUT/tls" bash "$REPO/bench/tls/run.sh" ;;
    proxy) part proxy env APPLIANCE="$SERVER_BINARY" SCENARIOS="small 1mib" ROUNDS="$RUNS" OUT="$OUT/proxy" bash "$REPO/bench/proxy/run.sh" ;;
    startup) part startup /usr/bin/python3 "$REPO/bench/startup.py" "$SERVER_BINARY" ;;
    *) log "unknown part $p"; exit 2 ;;
  esac
done

echo "finished: $(date -Is), load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
/usr/bin/python3 "$REPO/bench/targets.py" "$OUT" | tee "$OUT/targets.md"
