#!/usr/bin/env bash
# Reverse-proxy benchmark: the appliance vs Debian's nginx in front of the same upstream, over
# HTTPS on 127.0.0.1 with the same certificate, measured with Debian's wrk.
#
#   bench/proxy/run.sh                        # all scenarios, 3 alternating rounds, 10 s each
#   ROUNDS=1 DURATION=5 bench/proxy/run.sh    # quick pass
#   APPLIANCE=/path/to/openalgo-appliance bench/proxy/run.sh
#   KEEP=1 bench/proxy/run.sh                 # keep the work directory (configs, logs)
#   APPLIANCE_ENV="DOTNET_gcServer=0" bench/proxy/run.sh   # extra environment for the appliance
#
# Needs (Debian): nginx-light (or nginx), wrk, openssl; for the gunicorn scenario also gunicorn,
# python3-flask-socketio, python3-eventlet. Every server listens on 127.0.0.1 or a unix socket in
# a temporary directory and is stopped by PID at the end; every wrk run is bounded by DURATION.
#
# Upstreams (the same for every front end):
#   static   — a separate nginx (1 worker) on a unix socket serving /small.html (612 bytes, the
#              size of nginx's welcome page) and /1mib.bin: isolates the proxy's own cost.
#   gunicorn — the proxy tests' Flask-SocketIO app under gunicorn --worker-class eventlet -w 1 on
#              a unix socket, as install.sh runs OpenAlgo: /bare (a small HTML page).
# Front ends (TLS 1.2/1.3, HTTP/1.1, same ECDSA P-256 certificate, same security headers):
#   appliance        — the native-AOT binary, Proxy:Upstream=unix:<socket>
#   nginx-install.sh — install.sh's `location /` block as generated (new upstream connection per request)
#   nginx-keepalive  — the same plus an upstream block with `keepalive 32` (nginx at its best)
# Scenarios (wrk -t1, keep-alive connections):
#   small   — GET /small.html, 32 connections
#   1mib    — GET /1mib.bin, 8 connections
#   flask   — GET /bare through gunicorn, 16 connections
# Output: one line per run, then a median table in $OUT/summary.md. CPU µs/request is the front
# end's own utime+stime (nginx: master and workers) over the run divided by the requests served:
# unlike requests/s it does not move when other work shares the machine.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
SCENARIOS="${SCENARIOS:-small 1mib flask}"
FRONTENDS="${FRONTENDS:-appliance nginx-install.sh nginx-keepalive}"
APPLIANCE="${APPLIANCE:-$REPO/publish/openalgo-appliance}"
PORT_APPLIANCE="${PORT_APPLIANCE:-29443}"
PORT_NGINX="${PORT_NGINX:-29444}"
PORT_NGINX_KA="${PORT_NGINX_KA:-29445}"
OUT="${OUT:-/tmp/proxy-bench-$(date +%Y%m%d-%H%M%S)}"
WORK="$(mktemp -d /tmp/proxy-bench-work.XXXXXX)"
mkdir -p "$OUT"
# nginx workers run as this script's user (the user directive below), so they can read the
# work directory and connect to the unix sockets in it.

for tool in nginx wrk openssl; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx-light wrk openssl" >&2; exit 1; }
done
if [[ ! -x "$APPLIANCE" ]]; then
    echo "publishing $APPLIANCE" >&2
    dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$(dirname "$APPLIANCE")" >/dev/null
fi

PIDS=()
FRONT_PID=""
cleanup() {
    [[ -n "$FRONT_PID" ]] && kill "$FRONT_PID" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

wait_for() { # wait_for <test command...>
    for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for: $*" >&2; return 1
}

# --- certificate (shared by all front ends) -------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# --- static upstream ------------------------------------------------------------------------
mkdir -p "$WORK/www"
head -c 612 /dev/zero | tr '\0' 'x' | sed 's/^/<!doctype html><title>x<\/title>/' | head -c 612 > "$WORK/www/small.html"
head -c 1048576 /dev/urandom > "$WORK/www/1mib.bin"
cat > "$WORK/static.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes 1;
pid $WORK/static.pid;
error_log $WORK/static-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    types { text/html html; application/octet-stream bin; }
    client_body_temp_path $WORK/tmp-static; proxy_temp_path $WORK/tmp-static;
    server { listen unix:$WORK/static.sock; root $WORK/www; }
}
CONF
nginx -p "$WORK" -c "$WORK/static.conf" -g 'daemon off;' &
PIDS+=($!)
wait_for test -S "$WORK/static.sock"

# --- gunicorn upstream (OpenAlgo's worker class) ----------------------------------------------
HAVE_GUNICORN=0
if [[ " $SCENARIOS " == *" flask "* ]] && command -v gunicorn >/dev/null; then
    (cd "$REPO/tests/OpenAlgo.Appliance.Tests/Proxy" && exec gunicorn --worker-class eventlet -w 1 \
        --bind "unix:$WORK/gunicorn.sock" --log-level warning flask_app:app) >"$WORK/gunicorn.log" 2>&1 &
    PIDS+=($!)
    wait_for test -S "$WORK/gunicorn.sock" && HAVE_GUNICORN=1
fi

# --- front ends -------------------------------------------------------------------------------
nginx_conf() { # nginx_conf <name> <port> <keepalive 0|1>
    local name=$1 port=$2 keepalive=$3 static gunicorn extra=""
    if [[ $keepalive == 1 ]]; then
        static=static_up; gunicorn=gunicorn_up
        extra="upstream static_up { server unix:$WORK/static.sock; keepalive 32; }
    upstream gunicorn_up { server unix:$WORK/gunicorn.sock; keepalive 32; }"
    else
        static="unix:$WORK/static.sock"; gunicorn="unix:$WORK/gunicorn.sock"
    fi
    cat > "$WORK/$name.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes auto;
pid $WORK/$name.pid;
error_log $WORK/$name-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp-$name; proxy_temp_path $WORK/tmp-$name;
    $extra
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        # install.sh's TLS and header lines
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_prefer_server_ciphers on;
        ssl_ciphers EECDH+AESGCM:EDH+AESGCM;
        ssl_session_timeout 10m;
        ssl_session_cache shared:SSL-$name:10m;
        ssl_session_tickets off;
        add_header X-Frame-Options DENY;
        add_header X-Content-Type-Options nosniff;
        add_header X-XSS-Protection "1; mode=block";
        add_header Strict-Transport-Security "max-age=63072000" always;
        # install.sh's location / (the gunicorn path is chosen by URL below)
        location /bare {
            proxy_pass http://$gunicorn;
            proxy_http_version 1.1;
            proxy_read_timeout 300s; proxy_connect_timeout 300s; proxy_send_timeout 300s;
            proxy_buffer_size 128k; proxy_buffers 4 256k; proxy_busy_buffers_size 256k;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_redirect off;
        }
        location / {
            proxy_pass http://$static;
            proxy_http_version 1.1;
            proxy_read_timeout 300s; proxy_connect_timeout 300s; proxy_send_timeout 300s;
            proxy_buffer_size 128k; proxy_buffers 4 256k; proxy_busy_buffers_size 256k;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_redirect off;
        }
    }
}
CONF
    mkdir -p "$WORK/tmp-$name"
}

start_frontend() { # start_frontend <name> <upstream socket for the appliance>; sets FRONT_PID, FRONT_PORT
    local name=$1 upstream=$2
    case $name in
        appliance)
            FRONT_PORT=$PORT_APPLIANCE
            cat > "$WORK/appliance.json" <<JSON
{ "Appliance": {
    "Listen": { "Https": "127.0.0.1:$PORT_APPLIANCE", "Http": "", "Internal": "", "Admin": "" },
    "Tls": { "Mode": "Files", "CertificateFile": "$WORK/cert.pem", "KeyFile": "$WORK/key.pem", "Domains": ["localhost"] },
    "MarketData": { "Source": "Simulated" },
    "Proxy": { "Upstream": "unix:$upstream" },
    "StateDirectory": "$WORK/state", "LogsDirectory": "$WORK/logs", "LogLevel": "Warning" } }
JSON
            # From $WORK: run from the repository it would also layer the repo's appsettings.Production.json.
            (cd "$WORK" && exec env ${APPLIANCE_ENV:-} "$APPLIANCE" run --config "$WORK/appliance.json" >"$WORK/appliance.log" 2>&1) &
            FRONT_PID=$! ;;
        nginx-install.sh)
            FRONT_PORT=$PORT_NGINX
            nginx_conf "$name" "$FRONT_PORT" 0
            nginx -p "$WORK" -c "$WORK/$name.conf" -g 'daemon off;' &
            FRONT_PID=$! ;;
        nginx-keepalive)
            FRONT_PORT=$PORT_NGINX_KA
            nginx_conf "$name" "$FRONT_PORT" 1
            nginx -p "$WORK" -c "$WORK/$name.conf" -g 'daemon off;' &
            FRONT_PID=$! ;;
    esac
    wait_for curl -skf -o /dev/null "https://127.0.0.1:$FRONT_PORT/small.html"
}

stop_frontend() {
    kill "$FRONT_PID" 2>/dev/null || true
    wait "$FRONT_PID" 2>/dev/null || true
}

RESULTS="$OUT/results.tsv"
printf 'scenario\tfrontend\tround\trps\tp50_ms\tp99_ms\tMB_per_s\tcpu_us_per_req\terrors\n' > "$RESULTS"

cpu_ticks() { # cpu_ticks <pid>: utime+stime of the process and its children (nginx workers), in clock ticks
    local total=0 pid stat
    for pid in "$1" $(pgrep -P "$1" || true); do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        stat=${stat##*) }                                  # drop "pid (comm) "
        read -r -a f <<<"$stat"
        total=$((total + f[11] + f[12]))                   # fields 14 and 15: utime, stime
    done
    echo "$total"
}
HZ=$(getconf CLK_TCK)

ms() { # wrk latency ("812.00us", "1.20ms", "2.01s") -> milliseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

for scenario in $SCENARIOS; do
    case $scenario in
        small) path=/small.html; conns=32; upstream="$WORK/static.sock" ;;
        1mib)  path=/1mib.bin;   conns=8;  upstream="$WORK/static.sock" ;;
        flask) [[ $HAVE_GUNICORN == 1 ]] || { echo "skipping flask: gunicorn not available" >&2; continue; }
               path=/bare;       conns=16; upstream="$WORK/gunicorn.sock" ;;
    esac
    for round in $(seq "$ROUNDS"); do
        for frontend in $FRONTENDS; do
            start_frontend "$frontend" "$upstream"
            url="https://127.0.0.1:$FRONT_PORT$path"
            timeout 30 wrk -t1 -c"$conns" -d2s "$url" >/dev/null                      # warm-up
            before=$(cpu_ticks "$FRONT_PID")
            out=$(timeout $((DURATION + 30)) wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$url")
            after=$(cpu_ticks "$FRONT_PID")
            stop_frontend
            requests=$(awk '/requests in/ {print $1}' <<<"$out")
            cpu_us=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
            rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
            p50=$(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
            p99=$(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
            tr=$(awk '/^Transfer\/sec/ {v=$2; if (v ~ /GB$/) v*=1024; else if (v ~ /KB$/) v/=1024; else v+=0; printf "%.1f", v}' <<<"$out")
            errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$frontend" "$round" "$rps" "$p50" "$p99" "$tr" "$cpu_us" "${errors:-none}" | tee -a "$RESULTS"
        done
    done
done

# Median per scenario and front end.
{
    echo "| scenario | front end | requests/s | p50 ms | p99 ms | MB/s | CPU µs/request | vs nginx-install.sh (req/s) |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 { key = $1 "\t" $2; n[key]++; rps[key, n[key]] = $4; p50[key, n[key]] = $5; p99[key, n[key]] = $6; mb[key, n[key]] = $7; cpu[key, n[key]] = $8 }
        function median(arr, key, count,   i, j, t, v) {
            for (i = 1; i <= count; i++) v[i] = arr[key, i] + 0
            for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
        }
        END {
            for (key in n) { split(key, k, "\t"); m[key] = median(rps, key, n[key]) }
            for (key in n) {
                split(key, k, "\t"); base = m[k[1] "\tnginx-install.sh"]
                rel = base > 0 ? sprintf("%+.0f %%", (m[key] / base - 1) * 100) : "–"
                printf "| %s | %s | %.0f | %.2f | %.2f | %.1f | %.0f | %s |\n", k[1], k[2], m[key], median(p50, key, n[key]), median(p99, key, n[key]), median(mb, key, n[key]), median(cpu, key, n[key]), rel
            }
        }' "$RESULTS" | sort
} | tee "$OUT/summary.md"
echo "raw runs: $RESULTS" >&2
