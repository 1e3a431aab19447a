#!/usr/bin/env bash
# TLS handshake rate: the appliance's own TLS (Kestrel/SslStream on the system OpenSSL) against
# Debian's nginx with the same certificate and Mozilla-intermediate settings. Loopback only.
#
#   bench/tls/run.sh                         # everything: 3 runs x 10 s per cell, ~25 min
#   RUNS=1 TIME=3 bench/tls/run.sh           # quick pass
#   PLANS="tlshs:2" bench/tls/run.sh         # one client plan only
#
# What it does (every step bounded in time; servers are stopped by PID on exit):
#   1. Installs what is missing from Debian: nginx, openssl, gcc, libssl-dev (apt-get install -y).
#   2. Publishes the appliance if $SERVER_BINARY is missing, from a clean worktree of HEAD
#      (git worktree add --detach $WORKTREE HEAD; dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj
#       -c Release -r linux-x64 -o $PUBLISH_DIR; git worktree remove), so uncommitted edits are not measured.
#      SOURCE=tree publishes the work tree as it is instead.
#   3. Builds bench/tls/tlshs.c (cc -O2 ... -lssl -lcrypto).
#   4. Starts, in a fresh directory under $OUT:
#        Appliance__Listen__Https=127.0.0.1:19443 Appliance__Listen__Http= Appliance__Listen__Internal=127.0.0.1:19765 Appliance__Listen__Admin=127.0.0.1:19766 \
#          openalgo-appliance demo            (waits for "Demo API key")
#      and two nginx instances from bench/tls/nginx.conf.in with the appliance's own
#      state/tls/self-signed.{crt,key}.pem: 2 workers on 127.0.0.1:19444, 1 worker on 127.0.0.1:19445
#        nginx -c $OUT/nginxN/nginx.conf -p $OUT/nginxN -e $OUT/nginxN/error.log   (daemon off, own prefix)
#   5. Records the machine, the negotiated parameters (openssl s_client) and a resumption check.
#   6. For every run x client plan x cell x server (server order rotated per run), runs
#        measure.py run ...   = C parallel copies of
#          openssl s_time -connect 127.0.0.1:PORT (-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 |
#                                                  -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256) (-new|-reuse) -time $TIME -www /
#          or the same with tlshs ... -ignore-eof
#      with server/client/foreign CPU from /proc and /proc/loadavg before and after. A run during
#      which other work took more than MAX_FOREIGN % of a core is repeated (up to MAX_ATTEMPTS).
#   7. Writes $OUT/summary.md (median of the runs per cell) from $OUT/results.jsonl.
#
# Tunables: RUNS=3 TIME=10 PLANS="s_time:1 s_time:2 tlshs:2" (tool:client processes) MAX_ATTEMPTS=4
#   MAX_FOREIGN=15 OUT=/tmp/tlsbench-results/<timestamp> PUBLISH_DIR=/tmp/tlsbench-publish
#   SERVER_BINARY=$PUBLISH_DIR/openalgo-appliance REPUBLISH=0 SOURCE=worktree|tree WORKTREE=/tmp/tlsbench-wt
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RUNS="${RUNS:-3}"
TIME="${TIME:-10}"
PLANS="${PLANS:-s_time:1 s_time:2 tlshs:2}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-4}"
MAX_FOREIGN="${MAX_FOREIGN:-15}"
OUT="${OUT:-/tmp/tlsbench-results/$(date +%Y%m%d-%H%M%S)}"
PUBLISH_DIR="${PUBLISH_DIR:-/tmp/tlsbench-publish}"
SERVER_BINARY="${SERVER_BINARY:-$PUBLISH_DIR/openalgo-appliance}"
REPUBLISH="${REPUBLISH:-0}"
SOURCE="${SOURCE:-worktree}"
WORKTREE="${WORKTREE:-/tmp/tlsbench-wt}"
APP_PORT=19443
APP_INTERNAL_PORT=19765
APP_ADMIN_PORT=19766
NGINX2_PORT=19444
NGINX1_PORT=19445
CELLS="new:1.2 new:1.3 reuse:1.2 reuse:1.3"

mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
echo "output: $OUT"

# ---- 1. tools -------------------------------------------------------------------------------
need=()
command -v nginx >/dev/null || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v cc >/dev/null || need+=(gcc)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
    timeout 600 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${need[@]}"
fi
for port in $APP_PORT $APP_INTERNAL_PORT $NGINX2_PORT $NGINX1_PORT; do
    if ss -Htln "sport = :$port" | grep -q .; then echo "port 127.0.0.1:$port is in use" >&2; exit 1; fi
done

# ---- 2. appliance binary --------------------------------------------------------------------
COMMIT="$(git -C "$REPO" rev-parse --short HEAD)"
if [ "$REPUBLISH" = 1 ] || [ ! -x "$SERVER_BINARY" ]; then
    if [ "$SOURCE" = tree ]; then
        (cd "$REPO" && timeout 1500 dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o "$PUBLISH_DIR")
        COMMIT="$COMMIT+worktree-changes"
    else
        git -C "$REPO" worktree add --detach "$WORKTREE" HEAD
        (cd "$WORKTREE" && timeout 1500 dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o "$PUBLISH_DIR") \
            || { git -C "$REPO" worktree remove --force "$WORKTREE"; exit 1; }
        git -C "$REPO" worktree remove --force "$WORKTREE"
    fi
fi
# The binary names the commit it was built from in its "ready" line (0.1.0+<full hash>); that is the one recorded.

# ---- 3. tlshs -------------------------------------------------------------------------------
TLSHS="$OUT/tlshs"
cc -O2 -Wall -Wextra -o "$TLSHS" "$HERE/tlshs.c" -lssl -lcrypto

# ---- 4. servers -----------------------------------------------------------------------------
PIDS_TO_STOP=()
stop_all() {
    local pid
    for pid in "${PIDS_TO_STOP[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
        local alive=0
        for pid in "${PIDS_TO_STOP[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS_TO_STOP[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT

# Child of a `timeout` wrapper (the wrapper bounds the server's life; the child is what we measure and stop).
child_of() {
    local parent=$1 child=""
    for _ in $(seq 50); do
        child="$(cat /proc/"$parent"/task/"$parent"/children 2>/dev/null | awk '{print $1}')"
        [ -n "$child" ] && break
        sleep 0.1
    done
    echo "$child"
}

APP_DIR="$OUT/appliance"
mkdir -p "$APP_DIR"
NPLANS=$(wc -w <<<"$PLANS")
LIFETIME=$(( RUNS * NPLANS * 4 * 3 * (TIME + 15) * 2 + 1800 ))
(cd "$APP_DIR" && exec env Appliance__Listen__Https=127.0.0.1:$APP_PORT Appliance__Listen__Http= \
    Appliance__Listen__Internal=127.0.0.1:$APP_INTERNAL_PORT Appliance__Listen__Admin=127.0.0.1:$APP_ADMIN_PORT \
    timeout -s TERM "$LIFETIME" "$SERVER_BINARY" demo >"$APP_DIR/appliance.log" 2>&1) &
APP_PID="$(child_of $!)"
PIDS_TO_STOP+=("$APP_PID")
for _ in $(seq 600); do grep -q "Demo API key" "$APP_DIR/appliance.log" 2>/dev/null && break; sleep 0.1; done
grep -q "Demo API key" "$APP_DIR/appliance.log" || { echo "appliance did not start:"; cat "$APP_DIR/appliance.log"; exit 1; }
CERT="$APP_DIR/state/tls/self-signed.crt.pem"
KEY="$APP_DIR/state/tls/self-signed.key.pem"

start_nginx() { # name workers port -> sets NGINX_PID
    local dir="$OUT/$1"
    mkdir -p "$dir/tmp"
    sed -e "s#@WORKERS@#$2#; s#@PREFIX@#$dir#g; s#@PORT@#$3#; s#@CERT@#$CERT#; s#@KEY@#$KEY#" "$HERE/nginx.conf.in" >"$dir/nginx.conf"
    nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
    timeout -s TERM "$LIFETIME" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" &
    NGINX_PID="$(child_of $!)"
    PIDS_TO_STOP+=("$NGINX_PID")
    for _ in $(seq 100); do ss -Htln "sport = :$3" | grep -q . && break; sleep 0.1; done
}
start_nginx nginx2 2 $NGINX2_PORT; NGINX2_PID=$NGINX_PID
start_nginx nginx1 1 $NGINX1_PORT; NGINX1_PID=$NGINX_PID
declare -A PORT=([appliance]=$APP_PORT [nginx2]=$NGINX2_PORT [nginx1]=$NGINX1_PORT)
declare -A PID=([appliance]=$APP_PID [nginx2]=$NGINX2_PID [nginx1]=$NGINX1_PID)

# ---- 5. machine, negotiated parameters, resumption check -------------------------------------
{
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "kernel: $(uname -r)"
    echo "memory: $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "openssl: $(openssl version)"
    echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //') ($(dpkg-query -W -f='${Package} ${Version}' nginx-light 2>/dev/null || dpkg-query -W -f='${Package} ${Version}' nginx 2>/dev/null))"
    echo "nginx openssl: $(nginx -V 2>&1 | grep -i 'built with OpenSSL' || true)"
    echo "libssl used by the appliance: $(grep -m1 -o '/[^ ]*libssl\.so[^ ]*' /proc/"$APP_PID"/maps || echo '(not mapped yet)')"
    echo "dotnet sdk: $(dotnet --version 2>/dev/null || echo n/a)"
    BUILT="$(grep -m1 -oE ' ready: ' "$APP_DIR/appliance.log" >/dev/null && grep -m1 -oE '\+[0-9a-f]{40}' "$APP_DIR/appliance.log" | cut -c2-8 || true)"
    echo "appliance binary built from commit: ${BUILT:-unknown} (work tree HEAD now: $COMMIT)"
    echo "appliance ready line: $(grep -m1 ' ready: ' "$APP_DIR/appliance.log" | sed 's/^.*INF //')"
    echo "loadavg at start: $(cat /proc/loadavg)"
} | tee "$OUT/machine.txt"

{
    for s in appliance nginx2; do
        for v in tls1_2 tls1_3; do
            echo "== $s -$v (openssl s_client defaults, no cipher pinned)"
            echo | timeout 10 openssl s_client -connect 127.0.0.1:${PORT[$s]} -$v 2>/dev/null \
                | grep -E '^(New|Reused),|Server Temp Key|Peer signature type|Peer signing digest|session ticket lifetime' || true
        done
    done
} | tee "$OUT/negotiated.txt"

# Does each client actually resume against each server? 2-second probes, one client process.
{
    printf '| server | TLS | client | connections | resumed |\n|---|---|---|---|---|\n'
    for s in appliance nginx2; do
        for v in 1.2 1.3; do
            if [ $v = 1.2 ]; then P=(-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256); else P=(-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256); fi
            for c in "s_time -reuse (no -www)" "s_time -reuse -www /" "tlshs -reuse -www /" "tlshs -reuse -www / -ignore-eof"; do
                case "$c" in
                    "s_time -reuse (no -www)") o=$(timeout 20 openssl s_time -connect 127.0.0.1:${PORT[$s]} "${P[@]}" -reuse -time 2 2>&1) ;;
                    "s_time -reuse -www /") o=$(timeout 20 openssl s_time -connect 127.0.0.1:${PORT[$s]} "${P[@]}" -reuse -time 2 -www / 2>&1) ;;
                    "tlshs -reuse -www /") o=$(timeout 20 "$TLSHS" -connect 127.0.0.1:${PORT[$s]} "${P[@]}" -reuse -time 2 -www / 2>&1) ;;
                    *) o=$(timeout 20 "$TLSHS" -connect 127.0.0.1:${PORT[$s]} "${P[@]}" -reuse -time 2 -www / -ignore-eof 2>&1) ;;
                esac
                if [[ "$c" == s_time* ]]; then
                    n=$(grep -oE '^[0-9]+ connections in [0-9.]+ real' <<<"$o" | awk '{print $1}')
                    r=$(sed -n '/^starting/,/connections in/p' <<<"$o" | grep -v 'connections in' | tr -cd 'r' | wc -c)
                    r=$((r > 0 ? r - 1 : 0)) # the "r" of "starting"
                else
                    n=$(grep -oE 'conns=[0-9]+' <<<"$o" | cut -d= -f2); r=$(grep -oE 'resumed=[0-9]+' <<<"$o" | cut -d= -f2)
                fi
                echo "| $s | $v | \`$c\` | ${n:-?} | ${r:-?} |"
            done
        done
    done
    echo
    echo "How each server ends a 'GET / HTTP/1.0' connection (openssl s_client -ign_eof, last line of its output):"
    for s in appliance nginx2; do
        e=$( (printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:${PORT[$s]} -ign_eof 2>&1 \
            | grep -E 'unexpected eof while reading|^closed|^DONE' | tail -1 | sed 's/^[0-9A-F]*:error:/error:/' || true)
        echo "- $s: \`${e:-?}\`"
    done
} | tee "$OUT/resumption.md"

# ---- 6. measurements ------------------------------------------------------------------------
for s in appliance nginx2 nginx1; do # warm-up, not recorded
    timeout 20 openssl s_time -connect 127.0.0.1:${PORT[$s]} -new -time 2 -www / >/dev/null 2>&1 || true
    timeout 20 "$TLSHS" -connect 127.0.0.1:${PORT[$s]} -tls1_3 -reuse -time 2 -www / -ignore-eof >/dev/null 2>&1 || true
done

ORDERS=("appliance nginx2 nginx1" "nginx2 nginx1 appliance" "nginx1 appliance nginx2")
for run in $(seq "$RUNS"); do
    order="${ORDERS[$(( (run - 1) % 3 ))]}"
    for plan in $PLANS; do
        tool="${plan%%:*}"; clients="${plan##*:}"
        for cell in $CELLS; do
            mode="${cell%%:*}"; proto="${cell##*:}"
            for s in $order; do
                for attempt in $(seq "$MAX_ATTEMPTS"); do
                    rc=0
                    python3 "$HERE/measure.py" run --server "$s" --pids "${PID[$s]}" --port "${PORT[$s]}" \
                        --proto "$proto" --mode "$mode" --tool "$tool" --tlshs "$TLSHS" --clients "$clients" \
                        --time "$TIME" --www / --run "$run" --attempt "$attempt" --max-foreign "$MAX_FOREIGN" \
                        --out "$OUT/results.jsonl" --tmp "$OUT" || rc=$?
                    [ $rc = 0 ] && break
                    [ $rc = 3 ] || exit $rc
                    sleep 5
                done
            done
        done
    done
done

# ---- 7. summary -----------------------------------------------------------------------------
python3 "$HERE/measure.py" summarize "$OUT/results.jsonl" | tee "$OUT/summary.md"
echo "loadavg at end: $(cat /proc/loadavg)" | tee -a "$OUT/machine.txt"
echo "done: $OUT"
