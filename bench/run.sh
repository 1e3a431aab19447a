#!/usr/bin/env bash
# OpenAlgo Appliance benchmark runner.
#
# Exact commands (run from anywhere; paths are derived from this script's location):
#
#   bench/run.sh                                   # throughput, fanout, idle; over ws and wss; 3 runs each
#   RUNS=1 DURATION=10 bench/run.sh                # quick pass
#   SCENARIOS="throughput" TRANSPORTS="wss" RUNS=5 bench/run.sh
#   SERVER_BINARY=/opt/openalgo/openalgo-appliance bench/run.sh
#   EXTRA_ARGS="--mode 2" SCENARIOS="throughput fanout" bench/run.sh   # QUOTE payloads
#   SITES=3 SCENARIOS=fanout TRANSPORTS=ws bench/run.sh  # the same load split over 3 sites (a third of the rate each)
#
# What it does:
#   1. If $SERVER_BINARY (default <repo>/publish/openalgo-appliance) is missing, publishes it:
#        dotnet publish <repo>/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o <repo>/publish
#   2. Builds the load generator:
#        dotnet build <repo>/bench/OpenAlgo.Appliance.Bench -c Release
#   3. For every scenario x transport x run: starts the server (fresh process per run unless
#      RESTART_PER_RUN=0) with the bench environment below under `ulimit -n 65536` (or the hard
#      limit when that is lower), runs
#        dotnet <repo>/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll \
#            <scenario> --url <ws|wss url> --server-pid <pid> --json <out>/results.jsonl ...
#      under `timeout`, then stops the server by PID (SIGTERM, SIGKILL after 10 s).
#   4. Prints the median-of-runs markdown table (openalgo-bench summarize) and saves it to <out>/summary.md.
#
# Tunables (environment): RUNS=3  SCENARIOS="throughput fanout idle"  TRANSPORTS="ws wss"
#   DURATION=20 WARMUP=5 (throughput/fanout seconds)  IDLE_CLIENTS=10000 IDLE_HOLD=10
#   HTTPS_PORT=18443 INTERNAL_PORT=18765 ZMQ_PORT=15555 ADMIN_PORT=19765 (the admin listener: /metrics on, as installed)  OUT=/tmp/bench-results/<timestamp>
#   SERVER_BINARY=<repo>/publish/openalgo-appliance  RESTART_PER_RUN=1  EXTRA_ARGS=""  CLIENT=raw|clientws
#   SERVER_ENV="Key=Value Key2=Value2" (extra server environment)  REPUBLISH=1 (publish even if the binary exists)
#   STACKS="appliance" — "appliance seed" runs the seed stack right after the appliance in every
#     run (same feeder, same clients): OpenAlgo's own websocket proxy (websocket_proxy/server.py from
#     OPENALGO_SRC, with bench/seed/stub's API-key stub and fake broker adapter, under Debian's
#     /usr/bin/python3 — apt-get install python3-websockets python3-zmq python3-dotenv
#     python3-sqlalchemy python3-colorama) behind nginx with install.sh's vhost (bench/seed/nginx.conf.in).
#     Over ws the clients connect to the proxy directly (what the internal listener replaces), over
#     wss through nginx; "stack CPU µs/msg" then adds nginx's workers to the proxy's CPU.
#   OPENALGO_SRC=<an OpenAlgo checkout> (default: ~/.cache/openalgo-appliance-bench/openalgo, cloned
#     from GitHub when missing; a bare git directory is exported with git archive)
#   SEED_HTTPS_PORT=18444 SEED_WS_PORT=18766 (the seed stack's nginx and proxy)
#   SITES=1: with N > 1 the appliance gets sites site1..siteN (Appliance__Sites__site<k>__…: the name
#     site<k>.bench.test, internal listener INTERNAL_PORT+k-1, bus ZMQ_PORT+k-1, the rest inherited) and
#     the harness --sites N (throughput/fanout only: clients, symbols and rate split evenly over the sites)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-3}"
SCENARIOS="${SCENARIOS:-throughput fanout idle}"
TRANSPORTS="${TRANSPORTS:-ws wss}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
IDLE_CLIENTS="${IDLE_CLIENTS:-10000}"
IDLE_HOLD="${IDLE_HOLD:-10}"
HTTPS_PORT="${HTTPS_PORT:-18443}"
INTERNAL_PORT="${INTERNAL_PORT:-18765}"
ZMQ_PORT="${ZMQ_PORT:-15555}"
ADMIN_PORT="${ADMIN_PORT:-19765}"
SERVER_BINARY="${SERVER_BINARY:-$REPO/publish/openalgo-appliance}"
RESTART_PER_RUN="${RESTART_PER_RUN:-1}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
CLIENT="${CLIENT:-raw}"
SERVER_ENV="${SERVER_ENV:-}"
OUT="${OUT:-/tmp/bench-results/$(date +%Y%m%d-%H%M%S)}"
STATE_DIR="${STATE_DIR:-/tmp/bench-state}"
LOGS_DIR="${LOGS_DIR:-/tmp/bench-logs}"
STACKS="${STACKS:-appliance}"
OPENALGO_SRC="${OPENALGO_SRC:-$HOME/.cache/openalgo-appliance-bench/openalgo}"
SEED_HTTPS_PORT="${SEED_HTTPS_PORT:-18444}"
SEED_WS_PORT="${SEED_WS_PORT:-18766}"
SITES="${SITES:-1}"
NGINX_PID=""
ALSO_ARGS=()

BENCH_PROJECT="$REPO/bench/OpenAlgo.Appliance.Bench"
HARNESS_DLL="$BENCH_PROJECT/bin/Release/net10.0/openalgo-bench.dll"
SERVER_PID=""

log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

raise_fd_limit() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sites site1..siteN after the top-level keys (which they inherit), when SITES > 1.
SITE_ENV=()
SITE_PORTS=()
if (( SITES > 1 )); then
  for k in $(seq 1 "$SITES"); do
    SITE_ENV+=("Appliance__Sites__site${k}__Tls__Domains__0=site${k}.bench.test"
               "Appliance__Sites__site${k}__Listen__Internal=127.0.0.1:$((INTERNAL_PORT + k - 1))"
               "Appliance__Sites__site${k}__MarketData__ZmqEndpoint=tcp://127.0.0.1:$((ZMQ_PORT + k - 1))")
    SITE_PORTS+=("$((INTERNAL_PORT + k - 1))" "$((ZMQ_PORT + k - 1))")
  done
fi

start_server() {
  mkdir -p "$STATE_DIR" "$LOGS_DIR" "$OUT"
  local log_file="$OUT/server-stdout.log"
  for p in "$HTTPS_PORT" "$INTERNAL_PORT" "$ZMQ_PORT" "${SITE_PORTS[@]}"; do
    if port_open "$p"; then
      log "port $p is already in use (another server running?); refusing to start"
      return 1
    fi
  done
  echo "=== server start $(date -Is)" >>"$log_file"
  # The subshell execs into the server, so $! is the server's own PID.
  (
    raise_fd_limit
    # shellcheck disable=SC2086
    exec env \
      Appliance__Listen__Https="127.0.0.1:$HTTPS_PORT" \
      Appliance__Listen__Http= \
      Appliance__Listen__Internal="127.0.0.1:$INTERNAL_PORT" \
      Appliance__Listen__Admin="127.0.0.1:$ADMIN_PORT" \
      Appliance__Tls__Mode=SelfSigned \
      Appliance__MarketData__Source=Zmq \
      Appliance__MarketData__ZmqEndpoint="tcp://127.0.0.1:$ZMQ_PORT" \
      Appliance__Auth__Mode=StaticKeys \
      Appliance__Auth__StaticKeys__0__Key=benchkey \
      Appliance__Auth__StaticKeys__0__UserId=bench \
      Appliance__Auth__StaticKeys__0__Broker=benchbroker \
      Appliance__Limits__MaxClientsPerUser=20000 \
      Appliance__Limits__MaxClients=20000 \
      Appliance__StateDirectory="$STATE_DIR" \
      Appliance__LogsDirectory="$LOGS_DIR" \
      "${SITE_ENV[@]}" \
      $SERVER_ENV \
      "$SERVER_BINARY" run
  ) </dev/null >>"$log_file" 2>&1 &
  SERVER_PID=$!
  local waited=0
  local last_internal=$((INTERNAL_PORT + SITES - 1))
  while ! { port_open "$INTERNAL_PORT" && port_open "$last_internal" && port_open "$HTTPS_PORT"; }; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server exited during startup; last log lines:"
      tail -n 30 "$log_file" >&2 || true
      SERVER_PID=""
      return 1
    fi
    if (( waited >= 600 )); then
      log "server did not open ports $INTERNAL_PORT/$HTTPS_PORT within 60 s; last log lines:"
      tail -n 30 "$log_file" >&2 || true
      stop_server
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "server pid $SERVER_PID up (fd limit $(awk '/Max open files/ {print $4}' "/proc/$SERVER_PID/limits"), log $log_file)"
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server $SERVER_PID ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  log "server $SERVER_PID stopped"
  SERVER_PID=""
}

# The seed stack: OpenAlgo's proxy from a checkout (never copied into this repository).
seed_source() {
  if [[ -f "$OPENALGO_SRC/websocket_proxy/server.py" ]]; then
    SEED_TREE="$OPENALGO_SRC"
  elif git --git-dir="$OPENALGO_SRC" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    SEED_TREE="$OUT/seed/openalgo"
    mkdir -p "$SEED_TREE"
    [[ -f "$SEED_TREE/websocket_proxy/server.py" ]] || git --git-dir="$OPENALGO_SRC" archive HEAD websocket_proxy utils services | tar -x -C "$SEED_TREE"
  else
    log "no OpenAlgo checkout at $OPENALGO_SRC; cloning https://github.com/marketcalls/openalgo"
    git clone -q --depth 1 https://github.com/marketcalls/openalgo.git "$OPENALGO_SRC"
    SEED_TREE="$OPENALGO_SRC"
  fi
  log "seed stack: OpenAlgo at $SEED_TREE ($(git -C "$SEED_TREE" log -1 --format=%h 2>/dev/null || git --git-dir="$OPENALGO_SRC" log -1 --format=%h 2>/dev/null || echo '?'))"
}

start_seed() {
  local dir="$OUT/seed" log_file="$OUT/seed-stdout.log"
  mkdir -p "$dir/tmp" "$dir/run"
  [[ -n "${SEED_TREE:-}" ]] || seed_source
  for p in "$SEED_HTTPS_PORT" "$SEED_WS_PORT" "$ZMQ_PORT"; do
    if port_open "$p"; then log "port $p is already in use; refusing to start the seed stack"; return 1; fi
  done
  if [[ ! -f "$dir/cert.pem" ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  fi
  sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$SEED_HTTPS_PORT|g" -e "s|@CERT@|$dir/cert.pem|g" \
      -e "s|@KEY@|$dir/key.pem|g" -e "s|@PROXY_PORT@|$SEED_WS_PORT|g" "$REPO/bench/seed/nginx.conf.in" >"$dir/nginx.conf"
  echo "=== seed start $(date -Is)" >>"$log_file"
  (
    raise_fd_limit
    cd "$dir/run"
    exec env WEBSOCKET_HOST=127.0.0.1 WEBSOCKET_PORT="$SEED_WS_PORT" ZMQ_HOST=127.0.0.1 ZMQ_PORT="$ZMQ_PORT" \
      STUB_API_KEY=benchkey STUB_USER=bench STUB_BROKER=fakebroker MAX_SYMBOLS_PER_WEBSOCKET=1000 \
      /usr/bin/python3 "$REPO/bench/seed/stub/run_proxy.py" "$SEED_TREE"
  ) </dev/null >>"$log_file" 2>&1 &
  SERVER_PID=$!
  (raise_fd_limit; exec nginx -p "$dir" -c "$dir/nginx.conf") </dev/null >>"$log_file" 2>&1 &
  NGINX_PID=$!
  local waited=0
  while ! { port_open "$SEED_WS_PORT" && port_open "$SEED_HTTPS_PORT"; }; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null || ! kill -0 "$NGINX_PID" 2>/dev/null; then
      log "seed stack exited during startup; last log lines:"; tail -n 30 "$log_file" >&2 || true
      stop_server; return 1
    fi
    if (( waited >= 300 )); then log "seed stack did not start within 30 s"; stop_server; return 1; fi
    sleep 0.1; waited=$((waited + 1))
  done
  sleep 0.5
  ALSO_ARGS=()
  local w
  for w in $(pgrep -P "$NGINX_PID" || true); do ALSO_ARGS+=(--also-pid "nginx=$w"); done
  log "seed stack up: OpenAlgo proxy pid $SERVER_PID, nginx $NGINX_PID (workers: $(pgrep -P "$NGINX_PID" | tr '\n' ' '))"
}

stop_seed_nginx() {
  [[ -n "$NGINX_PID" ]] || return 0
  kill -QUIT "$NGINX_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

trap 'stop_server; stop_seed_nginx' EXIT
trap 'exit 130' INT TERM

# 1. server binary
if [[ ! -x "$SERVER_BINARY" || "${REPUBLISH:-0}" == "1" ]]; then
  if [[ "$SERVER_BINARY" != "$REPO/publish/openalgo-appliance" ]]; then
    log "SERVER_BINARY=$SERVER_BINARY does not exist"
    exit 1
  fi
  log "publishing the server (native AOT) to $REPO/publish ..."
  dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$REPO/publish"
fi

# 2. load generator
log "building the load generator ..."
dotnet build "$BENCH_PROJECT" -c Release --nologo -v quiet
HARNESS=(dotnet "$HARNESS_DLL")

raise_fd_limit
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
log "results: $RESULTS; load generator fd limit $(ulimit -n)"

url_for() { # url_for <stack> <transport>
  case "$1 $2" in
    "appliance ws") echo "ws://127.0.0.1:$INTERNAL_PORT/" ;;
    "appliance wss") echo "wss://127.0.0.1:$HTTPS_PORT/ws" ;;
    "seed ws") echo "ws://127.0.0.1:$SEED_WS_PORT/" ;;
    "seed wss") echo "wss://127.0.0.1:$SEED_HTTPS_PORT/ws" ;;
    *) log "unknown stack/transport $1 $2"; exit 2 ;;
  esac
}

start_stack() { # start_stack <stack>
  ALSO_ARGS=()
  case "$1" in
    appliance) start_server ;;
    seed) start_seed ;;
    *) log "unknown stack $1 (appliance or seed)"; exit 2 ;;
  esac
}

stop_stack() { stop_server; stop_seed_nginx; }

failures=0
if [[ "$RESTART_PER_RUN" == "0" && "$STACKS" != "appliance" ]]; then
  log "RESTART_PER_RUN=0 works with STACKS=appliance only"; exit 2
fi
if [[ "$RESTART_PER_RUN" == "0" ]]; then
  start_server
fi
for scenario in $SCENARIOS; do
  case "$scenario" in
    throughput|fanout)
      args=(--duration "$DURATION" --warmup "$WARMUP")
      limit=$(( ${DURATION%.*} + ${WARMUP%.*} + 150 )) ;;
    idle)
      args=(--clients "$IDLE_CLIENTS" --hold "$IDLE_HOLD")
      limit=$(( ${IDLE_HOLD%.*} + 330 )) ;;
    *) log "unknown scenario $scenario"; exit 2 ;;
  esac
  for transport in $TRANSPORTS; do
    for run in $(seq 1 "$RUNS"); do
      for stack in $STACKS; do
        if [[ "$RESTART_PER_RUN" != "0" ]]; then
          start_stack "$stack" || { failures=$((failures + 1)); continue; }
        fi
        label="$scenario $transport"
        [[ "$stack" == appliance ]] || label="$stack $label"
        sites=1  # the seed stack is one OpenAlgo proxy
        [[ "$stack" == appliance ]] && sites="$SITES"
        (( sites > 1 )) && label="$label $sites sites"
        also=()
        [[ "$stack" == seed && "$transport" == wss ]] && also=("${ALSO_ARGS[@]}")
        log "== $label, run $run/$RUNS (server pid $SERVER_PID, time limit ${limit}s, load average $(cut -d' ' -f1-3 /proc/loadavg))"
        set +e
        # shellcheck disable=SC2086
        timeout -k 10 "$limit" "${HARNESS[@]}" "$scenario" \
            --url "$(url_for "$stack" "$transport")" \
            --zmq "tcp://127.0.0.1:$ZMQ_PORT" \
            --server-pid "$SERVER_PID" \
            "${also[@]}" \
            --client "$CLIENT" \
            --max-seconds $((limit - 5)) \
            --json "$RESULTS" \
            --label "$label" \
            --sites "$sites" \
            "${args[@]}" $EXTRA_ARGS 2>&1 | tee -a "$OUT/bench.log"
        rc=${PIPESTATUS[0]}
        set -e
        if (( rc != 0 )); then
          log "run failed (exit $rc)"
          failures=$((failures + 1))
        fi
        if [[ "$RESTART_PER_RUN" != "0" ]]; then
          stop_stack
        elif ! kill -0 "$SERVER_PID" 2>/dev/null; then
          log "server died; restarting"
          start_server
        fi
      done
    done
  done
done
stop_stack

echo
if [[ -s "$RESULTS" ]]; then
  "${HARNESS[@]}" summarize "$RESULTS" | tee "$OUT/summary.md"
else
  log "no results recorded"
fi
log "raw results: $RESULTS, summary: $OUT/summary.md, logs: $OUT/bench.log $OUT/server-stdout.log"
if (( failures > 0 )); then
  log "$failures run(s) failed"
  exit 1
fi
