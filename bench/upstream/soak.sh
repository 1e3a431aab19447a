#!/usr/bin/env bash
# Soak (opt-in, ~11 min): the origin behind a MarketData:Source=OpenAlgo front is killed and restarted every INTERVAL s.
#
# usage: bench/upstream/soak.sh
#        DURATION=600 INTERVAL=60 MAX_PAUSE=5 CLIENTS=50 RATE=500 bench/upstream/soak.sh
#        SERVER_BINARY=/tmp/oa-soak-pub/openalgo-appliance REPUBLISH=1 OUT=/tmp/upstream-soak/mine bench/upstream/soak.sh
#
# Topology (all on 127.0.0.1, free ports picked at start, fresh state directories under $OUT/work, removed at the end):
#
#   publisher (pyzmq PUB) ──ZMQ──▶ origin (Source=Zmq, StaticKeys A and B)  ◀── one WebSocket per API key ──
#       front (Source=OpenAlgo, Auth:Mode=Upstream, Tls:Mode=SelfSigned) ◀── CLIENTS clients (python3-websockets):
#       most with key A, KEYB_CLIENTS with key B; WSS_CLIENTS over wss on the front's HTTPS listener, the rest over ws on its
#       internal listener; LTP/Quote/Depth mixed, PER_CLIENT of SYMBOLS symbols each; ORDERS_A + ORDERS_B send subscribe_orders.
#
# The publisher sends RATE ticks/s (each with a sequence number and its send time) and an order update for each key's user
# every ORDER_EVERY s. After WARMUP s the DURATION s window starts; every INTERVAL s the origin gets SIGTERM / SIGKILL
# (alternating), is reaped, and after a pause of 0..MAX_PAUSE s is started again on the same ports. Every process is started
# and stopped by PID. What is measured (disconnects, per-restart gap until every client has ticks again, delivery outside
# the gaps, duplicates, order updates after each restart, front RSS/fds, connections at the origin, the front's WRN/ERR
# lines, load average, foreign CPU) is described at the top of bench/upstream/soak.py. Exit status 1 when a hard check fails.
#
# Tunables (env): DURATION=600 INTERVAL=60 MAX_PAUSE=5 WARMUP=10 CLIENTS=50 KEYB_CLIENTS=8 WSS_CLIENTS=6 ORDERS_A=5 ORDERS_B=2
#   SYMBOLS=100 PER_CLIENT=20 RATE=500 ORDER_EVERY=3 SEED=1 KEEP_STATE=0 (1: keep $OUT/work)
#   SERVER_BINARY=/tmp/oa-soak-pub/openalgo-appliance (published when missing or with REPUBLISH=1:
#     dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o /tmp/oa-soak-pub)
#   OUT=/tmp/upstream-soak/<timestamp>  (summary.txt, summary.json, samples.json, front-stdout.log, origin-stdout.log, soak.log)
# Needs Debian's /usr/bin/python3 with python3-websockets and python3-zmq (apt-get install python3-websockets python3-zmq).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVER_BINARY="${SERVER_BINARY:-/tmp/oa-soak-pub/openalgo-appliance}"
OUT="${OUT:-/tmp/upstream-soak/$(date +%Y%m%d-%H%M%S)}"
PYTHON="${PYTHON:-/usr/bin/python3}"

echo "usage: [DURATION=600 INTERVAL=60 MAX_PAUSE=5 CLIENTS=50 RATE=500 ...] bench/upstream/soak.sh   (see the header for all tunables)" >&2

if ! "$PYTHON" -c 'import websockets, zmq' 2>/dev/null; then
  echo "soak.sh: $PYTHON needs python3-websockets and python3-zmq (apt-get install python3-websockets python3-zmq)" >&2
  exit 2
fi
mkdir -p "$OUT"
if [[ ! -x "$SERVER_BINARY" || "${REPUBLISH:-0}" == "1" ]]; then
  echo "publishing the appliance (native AOT) to $(dirname "$SERVER_BINARY") ..." >&2
  dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$(dirname "$SERVER_BINARY")"
fi
{
  echo "soak: $(date -Is), binary $SERVER_BINARY ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo ', src modified')), nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
} | tee "$OUT/soak.log" >&2

args=(run --binary "$SERVER_BINARY" --out "$OUT"
  --duration "${DURATION:-600}" --interval "${INTERVAL:-60}" --max-pause "${MAX_PAUSE:-5}" --warmup "${WARMUP:-10}"
  --clients "${CLIENTS:-50}" --keyb-clients "${KEYB_CLIENTS:-8}" --wss-clients "${WSS_CLIENTS:-6}"
  --orders-a "${ORDERS_A:-5}" --orders-b "${ORDERS_B:-2}" --symbols "${SYMBOLS:-100}" --per-client "${PER_CLIENT:-20}"
  --rate "${RATE:-500}" --order-every "${ORDER_EVERY:-3}" --seed "${SEED:-1}")
[[ "${KEEP_STATE:-0}" == "1" ]] && args+=(--keep-state)

# In the background so that a SIGINT/SIGTERM to this script reaches it (by PID): it then stops everything it started.
"$PYTHON" "$REPO/bench/upstream/soak.py" "${args[@]}" > >(tee -a "$OUT/soak.log") 2>&1 &
PY_PID=$!
trap 'kill -TERM "$PY_PID" 2>/dev/null || true' INT TERM
rc=0
while true; do
  wait "$PY_PID" && rc=0 || rc=$?
  kill -0 "$PY_PID" 2>/dev/null || break   # wait returned because of a trapped signal: wait again
done
trap - INT TERM
echo "soak: exit $rc; output in $OUT" >&2
exit "$rc"
