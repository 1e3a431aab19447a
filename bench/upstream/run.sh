#!/usr/bin/env bash
# Upstream relay benchmark: MarketData:Source=OpenAlgo ("front") in front of an origin vs clients on the origin directly.
#
# usage: bench/upstream/run.sh
#        RUNS=3 DURATION=15 WARMUP=3 RATE=2000 CLIENTS=100 SYMBOLS=50 MODES="relay direct" bench/upstream/run.sh
#        SERVER_BINARY=/tmp/oa-bench-pub/openalgo-appliance OUT=/tmp/upstream-bench bench/upstream/run.sh
#
# Topology (every process on 127.0.0.1, plain ws on the internal listeners):
#
#   relay:  openalgo-bench feeder ──ZMQ──▶ origin (Source=Zmq, StaticKeys)  ◀──1 WebSocket── front (Source=OpenAlgo,
#                                                                                            Auth:Mode=Upstream) ◀── CLIENTS
#   direct: openalgo-bench feeder ──ZMQ──▶ origin ◀── CLIENTS          (what OpenAlgo users have today)
#
# The origin is a second appliance standing in for OpenAlgo's Python proxy (Source=Zmq speaks the same
# protocol). Every client authenticates with the same key and subscribes to the same SYMBOLS symbols (LTP),
# the feeder publishes RATE ticks/s round-robin over them, so every tick goes to CLIENTS clients.
#
# What it does, for run in 1..RUNS, for mode in MODES (alternating, so drift hits both modes alike):
#   1. starts a fresh origin (and in relay mode a fresh front) with the environment below, under env -i
#      (no OpenAlgo .env names leak in), cwd = its own state directory (no appsettings.json picked up);
#   2. runs  dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll throughput
#              --url ws://127.0.0.1:<front or origin internal port>/ --zmq tcp://127.0.0.1:$ZMQ_PORT
#              --clients $CLIENTS --symbols $SYMBOLS --universe $SYMBOLS --rate $RATE --duration $DURATION --warmup $WARMUP
#              [--server-pid <front>] --also-pid origin=<origin> --count-port origin=$ORIGIN_INTERNAL_PORT
#      (server_* = the front, origin_* = the origin; origin_conns = ESTABLISHED connections the origin's
#      listener holds at the end of the window; foreign_cpu_pct = machine busy time not ours, the disturbance);
#   3. stops both by PID (SIGTERM, SIGKILL after 10 s); logs the 1-minute load average before and after.
# Results: $OUT/results.jsonl, median table in $OUT/summary.md (openalgo-bench summarize), logs in $OUT.
#
# Tunables: RUNS=3 MODES="relay direct" DURATION=15 WARMUP=3 RATE=2000 CLIENTS=100 SYMBOLS=50 BATCH_MS=1
#   SERVER_BINARY=/tmp/oa-bench-pub/openalgo-appliance (published with REPUBLISH=1 or when missing:
#   dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o /tmp/oa-bench-pub)
#   FRONT_HTTPS_PORT=18443 FRONT_INTERNAL_PORT=18765 ORIGIN_HTTPS_PORT=18444 ORIGIN_INTERNAL_PORT=18766 ZMQ_PORT=15555
#   OUT=/tmp/upstream-bench/<timestamp>  EXTRA_ARGS="" (more harness options)  FRONT_ENV/ORIGIN_ENV="K=V ..." (extra env)
#   WAIT_QUIET=0 (N: before each run wait until the machine is < N % busy over 2 s, at most QUIET_MAX_WAIT=900 s)
#   MAX_FOREIGN="" RETRIES=0 (e.g. MAX_FOREIGN=5 RETRIES=4: a run whose window had > 5 % foreign CPU is moved to
#   $OUT/disturbed.jsonl and repeated, up to 4 times; the last attempt is kept whatever it measured)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-3}"
MODES="${MODES:-relay direct}"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-3}"
RATE="${RATE:-2000}"
CLIENTS="${CLIENTS:-100}"
SYMBOLS="${SYMBOLS:-50}"
BATCH_MS="${BATCH_MS:-1}"
SERVER_BINARY="${SERVER_BINARY:-/tmp/oa-bench-pub/openalgo-appliance}"
FRONT_HTTPS_PORT="${FRONT_HTTPS_PORT:-18443}"
FRONT_INTERNAL_PORT="${FRONT_INTERNAL_PORT:-18765}"
ORIGIN_HTTPS_PORT="${ORIGIN_HTTPS_PORT:-18444}"
ORIGIN_INTERNAL_PORT="${ORIGIN_INTERNAL_PORT:-18766}"
ZMQ_PORT="${ZMQ_PORT:-15555}"
OUT="${OUT:-/tmp/upstream-bench/$(date +%Y%m%d-%H%M%S)}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
FRONT_ENV="${FRONT_ENV:-}"
ORIGIN_ENV="${ORIGIN_ENV:-}"

HARNESS_DLL="$REPO/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll"
ORIGIN_PID=""
FRONT_PID=""

log() { echo "[upstream $(date +%H:%M:%S)] $*" | tee -a "$OUT/run.log" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Machine busy % (100 = every core) over 2 s, from /proc/stat.
busy_pct() {
  local a b
  a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
  local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) ))
  local total=$(( busy + (b[4]+b[5]) - (a[4]+a[5]) ))
  echo $(( total > 0 ? 100 * busy / total : 0 ))
}

# WAIT_QUIET=N: before each run wait (up to QUIET_MAX_WAIT s) until the machine is below N % busy.
wait_quiet() {
  [[ "${WAIT_QUIET:-0}" != "0" ]] || return 0
  local waited=0 b
  while b=$(busy_pct); (( b >= WAIT_QUIET )); do
    if (( waited == 0 )); then log "machine $b % busy (load $(loadavg)); waiting for < $WAIT_QUIET %"; fi
    waited=$((waited + 2))
    if (( waited >= ${QUIET_MAX_WAIT:-900} )); then log "still $b % busy after $waited s; running anyway"; return 0; fi
  done
  (( waited == 0 )) || log "quiet after ${waited} s ($b % busy)"
}

# start_appliance NAME INTERNAL_PORT HTTPS_PORT KEY=VALUE... ; sets $STARTED_PID
start_appliance() {
  local name="$1" internal="$2" https="$3"
  shift 3
  local dir="$OUT/$name" log_file="$OUT/$name-stdout.log"
  mkdir -p "$dir/state" "$dir/logs"
  for p in "$internal" "$https"; do
    if port_open "$p"; then log "port $p is in use (another server running?); refusing to start $name"; return 1; fi
  done
  echo "=== $name start $(date -Is)" >>"$log_file"
  (
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    cd "$dir"
    exec env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 \
      Appliance__Listen__Https="127.0.0.1:$https" \
      Appliance__Listen__Http= \
      Appliance__Listen__Internal="127.0.0.1:$internal" \
      Appliance__Tls__Mode=SelfSigned \
      Appliance__Limits__MaxClientsPerUser=20000 \
      Appliance__Limits__MaxClients=20000 \
      Appliance__StateDirectory="$dir/state" \
      Appliance__LogsDirectory="$dir/logs" \
      "$@" \
      "$SERVER_BINARY" run
  ) </dev/null >>"$log_file" 2>&1 &
  STARTED_PID=$!
  local waited=0
  while ! { port_open "$internal" && port_open "$https"; }; do
    if ! kill -0 "$STARTED_PID" 2>/dev/null; then
      log "$name exited during startup:"; tail -n 20 "$log_file" >&2; return 1
    fi
    if (( waited >= 300 )); then log "$name did not open its ports in 30 s"; kill -KILL "$STARTED_PID"; return 1; fi
    sleep 0.1; waited=$((waited + 1))
  done
}

stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  stop_pid "$FRONT_PID"; FRONT_PID=""
  stop_pid "$ORIGIN_PID"; ORIGIN_PID=""
}
trap stop_all EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
if [[ ! -x "$SERVER_BINARY" || "${REPUBLISH:-0}" == "1" ]]; then
  log "publishing the appliance (native AOT) to $(dirname "$SERVER_BINARY") ..."
  dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$(dirname "$SERVER_BINARY")"
fi
log "building the load generator ..."
dotnet build "$REPO/bench/OpenAlgo.Appliance.Bench" -c Release --nologo -v quiet >/dev/null
RESULTS="$OUT/results.jsonl"
log "binary $SERVER_BINARY ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')), results $RESULTS, nproc $(nproc)"

failures=0
# Foreign CPU (machine busy time that is neither the appliances nor the harness) of the last result line, in %.
last_foreign() { tail -n 1 "$1" | python3 -c 'import json,sys; m={x["key"]:x["value"] for x in json.load(sys.stdin)["metrics"]}; print(int(m.get("foreign_cpu_pct") or 0))'; }

for run in $(seq 1 "$RUNS"); do
  for mode in $MODES; do
   for attempt in $(seq 0 "${RETRIES:-0}"); do
    wait_quiet
    # shellcheck disable=SC2086
    start_appliance origin "$ORIGIN_INTERNAL_PORT" "$ORIGIN_HTTPS_PORT" \
      Appliance__MarketData__Source=Zmq \
      Appliance__MarketData__ZmqEndpoint="tcp://127.0.0.1:$ZMQ_PORT" \
      Appliance__Auth__Mode=StaticKeys \
      Appliance__Auth__StaticKeys__0__Key=benchkey \
      Appliance__Auth__StaticKeys__0__UserId=bench \
      Appliance__Auth__StaticKeys__0__Broker=benchbroker \
      $ORIGIN_ENV || { failures=$((failures + 1)); continue; }
    ORIGIN_PID=$STARTED_PID
    pids=(--also-pid "origin=$ORIGIN_PID" --count-port "origin=$ORIGIN_INTERNAL_PORT")
    case "$mode" in
      relay)
        # shellcheck disable=SC2086
        start_appliance front "$FRONT_INTERNAL_PORT" "$FRONT_HTTPS_PORT" \
          Appliance__MarketData__Source=OpenAlgo \
          Appliance__MarketData__OpenAlgoUpstreamUrl="ws://127.0.0.1:$ORIGIN_INTERNAL_PORT" \
          Appliance__Auth__Mode=Upstream \
          $FRONT_ENV || { failures=$((failures + 1)); stop_all; continue; }
        FRONT_PID=$STARTED_PID
        url="ws://127.0.0.1:$FRONT_INTERNAL_PORT/"
        pids+=(--server-pid "$FRONT_PID")
        label="relay: $CLIENTS clients → front → 1 upstream → origin" ;;
      direct)
        url="ws://127.0.0.1:$ORIGIN_INTERNAL_PORT/"
        label="direct: $CLIENTS clients → origin" ;;
      *) log "unknown mode $mode"; exit 2 ;;
    esac
    front_log_lines=$( [[ -f "$OUT/front-stdout.log" ]] && wc -l <"$OUT/front-stdout.log" || echo 0)
    log "== $mode run $run/$RUNS: origin pid $ORIGIN_PID, front pid ${FRONT_PID:--}; load average before: $(loadavg)"
    set +e
    # shellcheck disable=SC2086
    timeout -k 10 $(( ${DURATION%.*} + ${WARMUP%.*} + 120 )) dotnet "$HARNESS_DLL" throughput \
      --url "$url" --zmq "tcp://127.0.0.1:$ZMQ_PORT" "${pids[@]}" \
      --clients "$CLIENTS" --symbols "$SYMBOLS" --universe "$SYMBOLS" --rate "$RATE" --batch-ms "$BATCH_MS" \
      --duration "$DURATION" --warmup "$WARMUP" --max-seconds $(( ${DURATION%.*} + ${WARMUP%.*} + 110 )) \
      --json "$RESULTS" --label "$label" $EXTRA_ARGS 2>&1 | tee -a "$OUT/bench.log"
    rc=${PIPESTATUS[0]}
    set -e
    (( rc == 0 )) || { log "run failed (exit $rc)"; failures=$((failures + 1)); }
    if [[ "$mode" == relay ]]; then
      ups=$(tail -n +"$((front_log_lines + 1))" "$OUT/front-stdout.log" | grep -c "OpenAlgo proxy session .* connected to" || true)
      lost=$(tail -n +"$((front_log_lines + 1))" "$OUT/front-stdout.log" | grep -c "lost its connection" || true)
      log "front log this run: $ups upstream session connect(s), $lost lost connection(s)"
    fi
    log "== $mode run $run/$RUNS done; load average after: $(loadavg)"
    stop_all
    if [[ -n "${MAX_FOREIGN:-}" && -s "$RESULTS" ]] && (( $(last_foreign "$RESULTS") > MAX_FOREIGN )); then
      if (( attempt < ${RETRIES:-0} )); then
        log "run disturbed: foreign CPU $(last_foreign "$RESULTS") % > $MAX_FOREIGN %; moved to disturbed.jsonl, re-running"
        tail -n 1 "$RESULTS" >>"$OUT/disturbed.jsonl"; sed -i '$ d' "$RESULTS"
        continue
      fi
      log "run disturbed (foreign CPU $(last_foreign "$RESULTS") %), no retries left; kept"
    fi
    break
   done
  done
done

echo
if [[ -s "$RESULTS" ]]; then
  dotnet "$HARNESS_DLL" summarize "$RESULTS" | tee "$OUT/summary.md"
fi
log "raw results: $RESULTS, summary: $OUT/summary.md, logs: $OUT/*.log"
(( failures == 0 )) || { log "$failures run(s) failed"; exit 1; }
