#!/usr/bin/env bash
# Opt-in end-to-end check under a real systemd 252 (not part of .ci/run: it bootstraps Debian once,
# then ~1 minute per run). Installs the .deb into a booted systemd-nspawn Debian 12 container with
# its own network namespace (so 443/80/8765 are free inside) and checks:
#   fresh install creates the user and does not start the service; enable --now → active with
#   READY/STATUS; `openalgo-appliance verify` passes inside; state dir 0700; log file written;
#   systemctl reload keeps the process; a frozen process (SIGSTOP) is killed by the watchdog and
#   restarted; an upgrade restarts the service and keeps the admin's configuration; the three
#   .socket units hand their sockets to the service; `import-certificate` run by hand as the
#   migration guide writes it (no --state-directory) stores certbot's pair where the service reads
#   it, owned by the service user, and the service serves it; purge removes state, logs,
#   configuration and the user.
# Usage (as root):  packaging/test-in-systemd.sh [path/to.deb]
# Needs: apt-get install debootstrap systemd-container; network access to the Debian mirror.
# Environment: CACHE (pristine debootstrap root, reused; default /var/tmp/openalgo-appliance-nspawn),
#   MIRROR, CT_TIMEOUT (seconds per command run in the container, default 180), KEEP=1 (keep the
#   per-run copy of the root and the console log for debugging).
# The host needs no systemd as PID 1: the container is started with --register=no --keep-unit and
# commands run in it through nsenter into the namespaces of its systemd.
set -euo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
for tool in debootstrap systemd-nspawn nsenter dpkg-deb timeout openssl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install debootstrap systemd-container)" >&2; exit 2; }
done

WORK=$(mktemp -d /var/tmp/oaappliance-e2e.XXXXXX)
NSPAWN=""
LEADER=""
cleanup() {
    local rc=$?
    if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
        # SIGTERM makes nspawn send SIGRTMIN+3 to the container's systemd: an orderly poweroff.
        kill -TERM "$NSPAWN" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 1; done
        if kill -0 "$NSPAWN" 2>/dev/null; then
            echo "container did not power off in 30 s; killing it" >&2
            # Killing PID 1 of the container's PID namespace kills every process in it.
            if [ -n "$LEADER" ]; then kill -KILL "$LEADER" 2>/dev/null || true; fi
            kill -KILL "$NSPAWN" 2>/dev/null || true
        fi
    fi
    if [ -n "$NSPAWN" ]; then wait "$NSPAWN" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $WORK (root copy and console log)" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DEB=${1:-}
if [ -z "$DEB" ]; then
    OUT="$WORK/deb"
    OUT="$OUT" packaging/build-deb.sh >/dev/null
    set -- "$OUT"/openalgo-appliance_*_amd64.deb
    DEB=$1
fi
[ -f "$DEB" ] || { echo "no such package: $DEB" >&2; exit 2; }
CACHE=${CACHE:-${ROOT:-/var/tmp/openalgo-appliance-nspawn}}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CT_TIMEOUT=${CT_TIMEOUT:-180}
MACHINE=oaappliance$$
ROOT="$WORK/root"

FAILED=0
STEP_FAILED=0
step() { STEP_FAILED=0; printf '\n== %s\n' "$*"; }
check() { if eval "$2"; then echo "PASS $1"; LAST_FAILED=0; else echo "FAIL $1"; FAILED=1; STEP_FAILED=1; LAST_FAILED=1; fi; }

# The package's Depends (dpkg -i installs nothing else), plus what the checks use.
INCLUDE=systemd,systemd-sysv,dbus,libssl3,libsqlite3-0,libargon2-1,ca-certificates,procps,init-system-helpers,nginx,python3,python3-websockets,sudo,iproute2,curl,ufw
# A marker written after a complete debootstrap, naming what it included: an interrupted one, or one
# made for another package list, is redone, not reused.
if [ "$(cat "$CACHE/.openalgo-appliance-bootstrap-ok" 2>/dev/null)" != "$INCLUDE" ]; then
    step "debootstrap bookworm into $CACHE (once; reused by later runs)"
    if [ -e "$CACHE" ]; then
        # Only ever delete what an earlier, interrupted debootstrap left.
        if [ "$CACHE" = / ] || ! { [ -d "$CACHE/debootstrap" ] || [ -x "$CACHE/lib/systemd/systemd" ] || [ -z "$(ls -A "$CACHE")" ]; }; then
            echo "$CACHE exists and is not a debootstrap root; set CACHE to another directory" >&2; exit 2
        fi
        rm -rf "$CACHE"
    fi
    timeout 1800 debootstrap --variant=minbase --include="$INCLUDE" \
        bookworm "$CACHE" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log"; echo "debootstrap failed" >&2; exit 1; }
    echo "$INCLUDE" > "$CACHE/.openalgo-appliance-bootstrap-ok"
fi
# Every run starts from the pristine root, so a failed run cannot leave a half-installed package behind.
cp -a --reflink=auto "$CACHE" "$ROOT"
cp "$DEB" "$ROOT/root/pkg.deb"
# The second package of the upgrade step: same binary, higher version.
VERSION_NEXT="$(dpkg-deb -f "$DEB" Version)+upgrade1"
mkdir -p "$WORK/next"
dpkg-deb -R "$DEB" "$WORK/next"
sed -i "s/^Version: .*/Version: $VERSION_NEXT/" "$WORK/next/DEBIAN/control"
dpkg-deb --root-owner-group --build "$WORK/next" "$ROOT/root/pkg-next.deb" >/dev/null
# A certbot-style pair for the import step: a private CA and a leaf for appliance.test, laid out
# as certbot keeps it (fullchain.pem = leaf + intermediate, privkey.pem).
LIVE="$ROOT/etc/letsencrypt/live/appliance.test"
mkdir -p "$LIVE" "$WORK/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Migration Test CA" \
    -keyout "$WORK/ca/ca.key" -out "$WORK/ca/ca.pem" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=appliance.test" \
    -keyout "$LIVE/privkey.pem" -out "$WORK/ca/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:appliance.test\nextendedKeyUsage=serverAuth\n' > "$WORK/ca/leaf.ext"
openssl x509 -req -in "$WORK/ca/leaf.csr" -CA "$WORK/ca/ca.pem" -CAkey "$WORK/ca/ca.key" -CAcreateserial -days 20 \
    -extfile "$WORK/ca/leaf.ext" -out "$WORK/ca/leaf.pem" 2>/dev/null
cat "$WORK/ca/leaf.pem" "$WORK/ca/ca.pem" > "$LIVE/fullchain.pem"
chmod 0600 "$LIVE/privkey.pem"
cp "$DEB" "$ROOT/root/$(basename "$DEB")"


# The host docs/migrate-from-nginx.md migrates, as install-multi.sh leaves it (rendered from its
# templates): per instance i a directory /var/python/openalgo-flask/openalgo<i> with .env
# (WEBSOCKET_PORT 8765+i-1, ZMQ_PORT 5555+i-1, FLASK_PORT 5000+i-1), a unit openalgo<i>.service
# whose gunicorn (here packaging/openalgo-standin.py) binds openalgo.sock, an nginx server block
# per domain with certbot's certificate, and certbot's timer (a stand-in unit: certbot itself is
# not needed). Nothing is enabled yet: nginx and the instances would hold 80/443/8765 while the
# steps above run the appliance there.
MIG_DOMAINS="a1.example.com b2.example.com"
stage_migration() {
    local i=0 d dir ca
    ca="$WORK/ca"
    cp "$ca/ca.pem" "$ROOT/usr/local/share/ca-certificates/migration-test-ca.crt"
    printf '127.0.0.1 %s\n' $MIG_DOMAINS >> "$ROOT/etc/hosts"
    rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/nginx.service" "$ROOT/etc/nginx/sites-enabled/default"
    mkdir -p "$ROOT/etc/letsencrypt/renewal" "$ROOT/etc/letsencrypt/accounts/acme-v02.api.letsencrypt.org/directory/0a1b2c3d"
    printf '{"body": {"contact": ["mailto:admin@example.com"], "status": "valid"}}\n' \
        > "$ROOT/etc/letsencrypt/accounts/acme-v02.api.letsencrypt.org/directory/0a1b2c3d/regr.json"
    printf '[Unit]\nDescription=Certbot\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n' > "$ROOT/lib/systemd/system/certbot.service"
    printf '[Unit]\nDescription=Run certbot twice daily\n\n[Timer]\nOnCalendar=*-*-* 00,12:00:00\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n' \
        > "$ROOT/lib/systemd/system/certbot.timer"
    for d in $MIG_DOMAINS; do
        i=$((i + 1))
        dir="/var/python/openalgo-flask/openalgo$i"
        # certbot's layout: archive/NAME/*1.pem, relative links in live/NAME, a renewal file.
        mkdir -p "$ROOT/etc/letsencrypt/archive/$d" "$ROOT/etc/letsencrypt/live/$d"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$d" \
            -keyout "$ROOT/etc/letsencrypt/archive/$d/privkey1.pem" -out "$ca/$d.csr" 2>/dev/null
        printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$d" > "$ca/$d.ext"
        openssl x509 -req -in "$ca/$d.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial -days 25 \
            -extfile "$ca/$d.ext" -out "$ROOT/etc/letsencrypt/archive/$d/cert1.pem" 2>/dev/null
        cp "$ca/ca.pem" "$ROOT/etc/letsencrypt/archive/$d/chain1.pem"
        cat "$ROOT/etc/letsencrypt/archive/$d/cert1.pem" "$ca/ca.pem" > "$ROOT/etc/letsencrypt/archive/$d/fullchain1.pem"
        chmod 0600 "$ROOT/etc/letsencrypt/archive/$d/privkey1.pem"
        for f in cert chain fullchain privkey; do ln -s "../../archive/$d/${f}1.pem" "$ROOT/etc/letsencrypt/live/$d/$f.pem"; done
        printf 'version = 2.1.0\narchive_dir = /etc/letsencrypt/archive/%s\ncert = /etc/letsencrypt/live/%s/cert.pem\nprivkey = /etc/letsencrypt/live/%s/privkey.pem\nchain = /etc/letsencrypt/live/%s/chain.pem\nfullchain = /etc/letsencrypt/live/%s/fullchain.pem\n\n[renewalparams]\naccount = 0a1b2c3d\nauthenticator = nginx\ninstaller = nginx\nserver = https://acme-v02.api.letsencrypt.org/directory\n' \
            "$d" "$d" "$d" "$d" "$d" > "$ROOT/etc/letsencrypt/renewal/$d.conf"
        # The instance: its .env (the lines install-multi.sh writes), a venv whose gunicorn is the stand-in.
        mkdir -p "$ROOT$dir/venv/bin" "$ROOT$dir/db" "$ROOT$dir/tmp"
        : > "$ROOT$dir/venv/bin/activate"
        install -m 0755 packaging/openalgo-standin.py "$ROOT$dir/venv/bin/gunicorn"
        cat > "$ROOT$dir/.env" <<ENV
# OpenAlgo instance $i ($d), as install-multi.sh writes it
HOST_SERVER = 'https://$d'
DATABASE_URL = 'sqlite:///db/openalgo$i.db'
FLASK_HOST_IP='127.0.0.1'
FLASK_PORT='$((5000 + i - 1))'
WEBSOCKET_HOST='127.0.0.1'
WEBSOCKET_PORT='$((8765 + i - 1))'
WEBSOCKET_URL='wss://$d/ws'
ZMQ_HOST='127.0.0.1'
ZMQ_PORT='$((5555 + i - 1))'
SESSION_COOKIE_NAME = 'session$i'
TRUST_PROXY_HEADERS = 'TRUE'
STANDIN_API_KEY='nspawn-key-$i'
STANDIN_USER='trader$i'
ENV
        chmod 0600 "$ROOT$dir/.env"
        cat > "$ROOT/etc/systemd/system/openalgo$i.service" <<UNIT
[Unit]
Description=OpenAlgo Instance $i ($d - fakebroker)
After=network.target

[Service]
User=www-data
Group=www-data
WorkingDirectory=$dir
Environment="HOME=$dir/tmp"
ExecStart=/bin/bash -c 'source $dir/venv/bin/activate && $dir/venv/bin/gunicorn \\
    --worker-class eventlet \\
    -w 1 \\
    --bind unix:$dir/openalgo.sock \\
    --timeout 300 \\
    --log-level info \\
    app:app'
Restart=always
RestartSec=5
TimeoutSec=300

[Install]
WantedBy=multi-user.target
UNIT
        cat > "$ROOT/etc/nginx/sites-available/$d" <<NGINX
server {
    listen 80;
    listen [::]:80;
    server_name $d;

    location = /ws {
        return 301 https://\$host\$request_uri;
    }
    location /ws/ {
        return 301 https://\$host\$request_uri;
    }
    location / {
        return 301 https://\$host\$request_uri;
    }
}

server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name $d;

    ssl_certificate /etc/letsencrypt/live/$d/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/$d/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;

    add_header X-Frame-Options DENY;
    add_header X-Content-Type-Options nosniff;
    add_header Strict-Transport-Security "max-age=63072000" always;

    location = /ws {
        proxy_pass http://127.0.0.1:$((8765 + i - 1));
        proxy_http_version 1.1;
        proxy_read_timeout 86400s;
        proxy_set_header Upgrade \$http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host \$host;
    }
    location /ws/ {
        proxy_pass http://127.0.0.1:$((8765 + i - 1))/;
        proxy_http_version 1.1;
        proxy_read_timeout 86400s;
        proxy_set_header Upgrade \$http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host \$host;
    }
    location /socket.io/ {
        proxy_pass http://unix:$dir/openalgo.sock;
        proxy_http_version 1.1;
        proxy_set_header Upgrade \$http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-Proto \$scheme;
    }
    location / {
        proxy_pass http://unix:$dir/openalgo.sock;
        proxy_http_version 1.1;
        proxy_read_timeout 300s;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_redirect off;
    }
}
NGINX
        ln -s "/etc/nginx/sites-available/$d" "$ROOT/etc/nginx/sites-enabled/$d"
    done
    # OpenAlgo's installers chown the instance directories to the web user.
    chown -R 33:33 "$ROOT/var/python"
    # What a browser sees during --apply: a request every 50 ms, its status (000: nothing answered).
    cat > "$ROOT/root/probe.py" <<'PY'
import socket, ssl, sys, time
context = ssl.create_default_context()
host = sys.argv[1]
while True:
    started = time.time()
    try:
        with socket.create_connection(("127.0.0.1", 443), timeout=1) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
            tls.settimeout(2)
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            line = tls.recv(64).split(b"\r\n")[0].decode()
            code = line.split(" ")[1] if line.startswith("HTTP/") else "???"
    except Exception:
        code = "000"
    print(f"{started:.3f} {code}", flush=True)
    time.sleep(0.05)
PY
}
stage_migration

step "boot the container"
systemd-nspawn --register=no --keep-unit --private-network -D "$ROOT" -M "$MACHINE" -b --console=passive >"$WORK/console.log" 2>&1 &
NSPAWN=$!
for _ in $(seq 1 60); do
    LEADER=$(pgrep -P "$NSPAWN" -x systemd || true)
    [ -n "$LEADER" ] && break
    kill -0 "$NSPAWN" 2>/dev/null || break
    sleep 1
done
[ -n "$LEADER" ] || { echo "container did not boot"; cat "$WORK/console.log"; exit 1; }
# Every command in the container is bounded; a hung one counts as failed.
ct() { timeout --kill-after=10 "$CT_TIMEOUT" nsenter -t "$LEADER" -m -u -i -n -p -- "$@"; }
state=unknown
for _ in $(seq 1 90); do
    state=$(ct systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) break;; esac
    sleep 1
done
SYSTEMD_VERSION=$(ct systemctl --version | head -1)
echo "systemd in container: $SYSTEMD_VERSION; system state: $state"
if [ "$state" = degraded ]; then
    echo "failed units: $(ct systemctl list-units --state=failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')"
fi
svc() { ct systemctl show -p "$1" --value openalgo-appliance.service; }
# Waits up to $1 s for the service to be active with a MainPID other than $2; sets NEWPID.
wait_active_new_pid() {
    local _
    NEWPID=$(svc MainPID)
    for _ in $(seq 1 "$1"); do
        NEWPID=$(svc MainPID)
        [ "$NEWPID" != "$2" ] && [ "$NEWPID" != 0 ] && ct systemctl is-active --quiet openalgo-appliance && return 0
        sleep 1
    done
    return 1
}
# After a failed check: the unit's status and its last journal lines, for the record.
on_failure_dump() { [ "$STEP_FAILED" = 0 ] || { ct systemctl status --no-pager -l openalgo-appliance | tail -20 || true; }; }

step "fresh install"
ct dpkg -i /root/pkg.deb
check "user created by sysusers" "ct getent passwd openalgo-appliance >/dev/null"
check "not started before a domain is configured" "! ct systemctl is-active --quiet openalgo-appliance"

step "configure and start"
ct sh -c 'cat > /etc/openalgo-appliance/appsettings.Production.json <<JSON
{"Appliance": {"Tls": {"Mode": "SelfSigned", "Domains": ["appliance.test"]},
  "MarketData": {"Source": "Simulated"},
  "Auth": {"StaticKeys": [{"Key": "nspawn-test-key", "UserId": "ops", "Broker": "demo"}]}}}
JSON'
check "check accepts the edited configuration" \
    "ct openalgo-appliance check --config /etc/openalgo-appliance/appsettings.Production.json"
# A typo's hint names the key reference this package installed, not a path in the source tree.
ct sh -c 'echo "{\"Appliance\": {\"Tls\": {\"Domain\": [\"x.test\"]}}}" > /root/typo.json'
TYPO_OUT=$(ct openalgo-appliance check --config /root/typo.json 2>&1 || true)
check "check names the installed configuration reference" \
    "printf '%s\n' \"\$TYPO_OUT\" | grep -qF '(all keys: /usr/share/doc/openalgo-appliance/configuration.md.gz)' && ct test -s /usr/share/doc/openalgo-appliance/configuration.md.gz"
# A short watchdog so the freeze test takes seconds, not the unit's 30 s.
ct mkdir -p /etc/systemd/system/openalgo-appliance.service.d
ct sh -c 'printf "[Service]\nWatchdogSec=4s\n" > /etc/systemd/system/openalgo-appliance.service.d/test.conf'
ct systemctl daemon-reload
ct systemctl enable --now openalgo-appliance
check "active after enable --now" "ct systemctl is-active --quiet openalgo-appliance"
echo "status: $(svc StatusText)"
VERIFY_RC=0
VERIFY_OUT=$(ct openalgo-appliance verify https://127.0.0.1/ --api-key nspawn-test-key --symbol NSE:RELIANCE 2>&1) || VERIFY_RC=$?
printf '%s\n' "$VERIFY_OUT" | sed 's/^/    /'
check "verify passes inside the container" "[ \$VERIFY_RC = 0 ] && printf '%s\n' \"\$VERIFY_OUT\" | grep -qx 'verify: OK'"
check "state directory 0700, owned by the service user" "[ \"\$(ct stat -c '%a %U' /var/lib/openalgo-appliance)\" = '700 openalgo-appliance' ]"
check "log file written" "ct sh -c 'test -s /var/log/openalgo-appliance/openalgo-appliance-*.log'"
on_failure_dump

step "reload (SIGHUP)"
PID0=$(svc MainPID)
ct systemctl reload openalgo-appliance
sleep 1
check "reload keeps the process and the service active (pid $PID0 -> $(svc MainPID))" \
    "[ \"\$(svc MainPID)\" = \"\$PID0\" ] && ct systemctl is-active --quiet openalgo-appliance"
check "reload logged" "ct sh -c 'grep -q \"Configuration reloaded\" /var/log/openalgo-appliance/openalgo-appliance-*.log'"
on_failure_dump

step "watchdog: freeze the process"
PID1=$(svc MainPID)
FROZEN_AT=$SECONDS
ct kill -STOP "$PID1"
wait_active_new_pid 40 "$PID1" || true
PID2=$NEWPID
echo "restarted after $((SECONDS - FROZEN_AT)) s; NRestarts=$(svc NRestarts)"
ct journalctl -u openalgo-appliance --no-pager -o cat --since "-2min" | grep -E 'Watchdog timeout|with signal SIGABRT|result .watchdog' | sed 's/^/    /' || true
check "frozen process killed by the watchdog and restarted ($PID1 -> $PID2)" \
    "[ \"\$PID2\" != \"\$PID1\" ] && ct systemctl is-active --quiet openalgo-appliance && ct journalctl -u openalgo-appliance --no-pager -o cat | grep -q 'Watchdog timeout'"
on_failure_dump

step "upgrade"
PID3=$(svc MainPID)
ct dpkg -i /root/pkg-next.deb
wait_active_new_pid 30 "$PID3" || true
PID4=$NEWPID
check "upgrade restarted the service ($PID3 -> $PID4)" "[ \"\$PID4\" != \"\$PID3\" ] && ct systemctl is-active --quiet openalgo-appliance"
check "admin's configuration kept on upgrade" "ct grep -q appliance.test /etc/openalgo-appliance/appsettings.Production.json"
check "still enabled after upgrade" "ct systemctl is-enabled --quiet openalgo-appliance"

step "socket activation"
SOCKETS="openalgo-appliance-https.socket openalgo-appliance-http.socket openalgo-appliance-internal.socket"
all_active() { local u; for u in "$@"; do ct systemctl is-active --quiet "$u" || return 1; done; }
# Inode of the socket listening on a hex port (443 = 01BB, 80 = 0050, 8765 = 223D) in the container.
# shellcheck disable=SC2016 # awk's own $ fields
listen_inode() { ct awk -v p=":$1" '$4 == "0A" && substr($2, length($2) - 4) == p {print $10}' /proc/net/tcp; }
# True when the service's MainPID holds the very sockets systemd listens on (LISTEN_FDS), not its own.
holds_systemd_sockets() {
    local pid hex inode
    pid=$(svc MainPID)
    for hex in 01BB 0050 223D; do
        inode=$(listen_inode "$hex")
        [ "$(printf '%s\n' "$inode" | grep -c .)" = 1 ] || return 1
        ct sh -c "ls -l /proc/$pid/fd /proc/1/fd" | grep -c "socket:\[$inode\]" | grep -qx 2 || return 1
    done
}
ct systemctl stop openalgo-appliance
# shellcheck disable=SC2086
ct systemctl enable --now $SOCKETS
ct systemctl start openalgo-appliance
check "sockets listening and service active" "all_active $SOCKETS openalgo-appliance.service"
echo "    LISTEN_FDNAMES=$(ct sh -c "tr '\\0' '\\n' < /proc/$(svc MainPID)/environ | sed -n 's/^LISTEN_FDNAMES=//p'")"
check "service serves on the sockets systemd bound (443, 80, 8765)" "holds_systemd_sockets"
VERIFY_RC=0
VERIFY_OUT=$(ct openalgo-appliance verify https://127.0.0.1/ 2>&1) || VERIFY_RC=$?
check "TLS and /ws upgrade through the systemd-owned socket" "[ \$VERIFY_RC = 0 ]"
[ "$VERIFY_RC" = 0 ] || printf '%s\n' "$VERIFY_OUT" | sed 's/^/    /'
# The point of the sockets: they stay open while the service restarts (upgrades, crashes).
INODE_BEFORE=$(listen_inode 01BB)
PID5=$(svc MainPID)
ct systemctl restart openalgo-appliance
wait_active_new_pid 30 "$PID5" || true
check "service restart keeps the listening socket (443 inode $INODE_BEFORE -> $(listen_inode 01BB))" \
    "[ \"\$(listen_inode 01BB)\" = \"\$INODE_BEFORE\" ] && all_active $SOCKETS openalgo-appliance.service && holds_systemd_sockets"
ct systemctl stop openalgo-appliance 2>/dev/null
VERIFY_RC=0
VERIFY_OUT=$(ct openalgo-appliance verify https://127.0.0.1/ 2>&1) || VERIFY_RC=$?
check "a connection to the stopped service starts it" "[ \$VERIFY_RC = 0 ] && ct systemctl is-active --quiet openalgo-appliance"
on_failure_dump

step "import-certificate, as docs/migrate-from-nginx.md runs it"
# Tls:Mode Acme for the imported certificate; the CA is unreachable here (private network) and is
# not needed until the renewal point.
ct sh -c 'cat > /etc/openalgo-appliance/appsettings.Production.json <<JSON
{"Appliance": {"Tls": {"Mode": "Acme", "Domains": ["appliance.test"],
    "Acme": {"Email": "ops@appliance.test", "AcceptTermsOfService": true}},
  "MarketData": {"Source": "Simulated"},
  "Auth": {"StaticKeys": [{"Key": "nspawn-test-key", "UserId": "ops", "Broker": "demo"}]}}}
JSON'
# An operator's shell in their home directory: no systemd variables, no appsettings*.json here.
IMPORT_RC=0
IMPORT_OUT=$(ct sh -c 'cd /root && openalgo-appliance import-certificate \
    --cert /etc/letsencrypt/live/appliance.test/fullchain.pem --key /etc/letsencrypt/live/appliance.test/privkey.pem' 2>&1) || IMPORT_RC=$?
printf '%s\n' "$IMPORT_OUT" | sed 's/^/    /'
check "import-certificate exits 0 and names the service's state directory" \
    "[ \$IMPORT_RC = 0 ] && printf '%s\n' \"\$IMPORT_OUT\" | grep -q 'into /var/lib/openalgo-appliance/acme'"
check "nothing written to ./state of the operator's directory" "! ct test -e /root/state"
check "imported files owned by the service user" \
    "[ -z \"\$(ct find /var/lib/openalgo-appliance ! -user openalgo-appliance)\" ] && ct test -f /var/lib/openalgo-appliance/acme/certificate.imported"
ct systemctl restart openalgo-appliance
check "service active on the imported certificate" "ct systemctl is-active --quiet openalgo-appliance"
# The container has no openssl binary; verify names the served certificate's issuer.
SERVED=$(ct openalgo-appliance verify https://127.0.0.1/ 2>&1 | grep -o 'issuer CN=[^,]*' || true)
check "the imported certificate is served ($SERVED)" "[ \"\$SERVED\" = 'issuer CN=Migration Test CA' ]"
on_failure_dump

step "purge"
ct dpkg -P openalgo-appliance
check "service and sockets stopped" "! ct systemctl is-active --quiet openalgo-appliance $SOCKETS"
check "state removed" "! ct test -e /var/lib/openalgo-appliance"
check "logs removed" "! ct test -e /var/log/openalgo-appliance"
check "configuration removed" "! ct test -e /etc/openalgo-appliance"
check "user removed" "! ct getent passwd openalgo-appliance >/dev/null"
check "no enable links left (systemctl enable made them, not dpkg)" "[ -z \"\$(ct find /etc/systemd/system -name 'openalgo-appliance*' -type l)\" ]"

step "migrate: docs/migrate-from-nginx.md as written (nginx + two install-multi.sh instances)"
# Each shell block of the guide, in order, run as written in root's home with the names its text
# gives the reader (DOMAIN and KEY of the site being verified).
DOC=docs/migrate-from-nginx.md
doc_block() { awk -v want="$1" '/^```sh$/ {n++; inside = (n == want); next} /^```/ {inside = 0} inside' "$DOC"; }
run_block() {
    local env=$1 n=$2 rc=0 out
    out=$(ct bash -c "cd /root && set -e && $env
$(doc_block "$n")" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/    /' | tail -"${TAIL:-25}"
    return $rc
}
sha_envs() { ct sh -c 'sha256sum /var/python/openalgo-flask/openalgo1/.env /var/python/openalgo-flask/openalgo2/.env'; }
site_ok() { # $1 domain, $2 key: HTTPS reaches that instance's web app, verify authenticates, subscribes and gets a tick on /ws
    ct curl -sf "https://$1/" | grep -q "stand-in for $1" \
        && ct openalgo-appliance verify "https://$1/" --api-key "$2" 2>&1 | grep -q '^PASS first tick'
}
# What a check of a site saw, when it failed.
site_why() { echo "    $1: HTTPS $(ct curl -s -o /dev/null -w '%{http_code}' "https://$1/" 2>&1); $(ct openalgo-appliance verify "https://$1/" --api-key "$2" 2>&1 | grep -E '^(FAIL|WARN)' | head -3 | tr '\n' ' ')"; }
ct update-ca-certificates >/dev/null 2>&1
ct ufw allow 'Nginx Full' >/dev/null   # as the installers left it
ct systemctl enable --now openalgo1 openalgo2 nginx certbot.timer >/dev/null 2>&1
ENV_BEFORE=$(sha_envs)

RC=0; TAIL=3 run_block "" 1 || RC=$?
check "1. apt install ./openalgo-appliance_*_amd64.deb" "[ $RC = 0 ] && ct systemctl cat openalgo-appliance >/dev/null"
# The purge above removed the links 'systemctl enable' made: the appliance is installed, not
# enabled, not running. Whatever it was, the rollback must leave it so, not restart it on the
# package's empty configuration.
APPLIANCE_ENABLED=$(ct systemctl is-enabled openalgo-appliance 2>/dev/null || true)
echo "    openalgo-appliance before the migration: $APPLIANCE_ENABLED, $(ct systemctl is-active openalgo-appliance 2>/dev/null || true)"
# verify (the package's) measures nginx as it measures the appliance.
for _ in $(seq 1 60); do site_ok a1.example.com nspawn-key-1 2>/dev/null && site_ok b2.example.com nspawn-key-2 2>/dev/null && break; sleep 1; done
check "before: nginx serves both instances over HTTPS and /ws" "site_ok a1.example.com nspawn-key-1 && site_ok b2.example.com nspawn-key-2"
[ "$LAST_FAILED" = 0 ] || { site_why a1.example.com nspawn-key-1; site_why b2.example.com nspawn-key-2; }
PLAN=$(ct sh -c 'cd /root && sudo openalgo-appliance migrate' 2>&1) || true
printf '%s\n' "$PLAN" | grep -E '^(site |  (domains|\.env|internal|certificate) |Ready)' | sed 's/^/    /'
check "2. dry run: a site per server block, ready, nothing changed" \
    "run_block '' 2 >/dev/null && printf '%s\n' \"\$PLAN\" | grep -q '^site a1-example-com' && printf '%s\n' \"\$PLAN\" | grep -q '^site b2-example-com' && printf '%s\n' \"\$PLAN\" | grep -q '^Ready' && [ \"\$(sha_envs)\" = \"\$ENV_BEFORE\" ]"
RC=0; TAIL=2 run_block "" 3 >/dev/null || RC=$?
check "2. rehearsal from nginx -T" "[ $RC = 0 ]"
RC=0; TAIL=4 run_block "" 4 || RC=$?
check "2. rehearsal on a copy: --apply and its rollback.sh there; the machine untouched" \
    "[ $RC = 0 ] && [ \"\$(sha_envs)\" = \"\$ENV_BEFORE\" ] && ct systemctl is-active --quiet nginx && ! ct systemctl is-active --quiet openalgo-appliance && ! ct test -e /var/tmp/migrate-rehearsal"

PROBE=$(ct sh -c 'python3 /root/probe.py a1.example.com > /root/probe.log 2>&1 & echo $!')
RC=0; TAIL=40 run_block "" 5 || RC=$?
sleep 1; ct kill "$PROBE" 2>/dev/null || true
# The longest run of probes that got nothing (000), and of 5xx answers (gunicorn restarting).
longest() { ct cat /root/probe.log | awk -v pattern="$1" '{ bad = ($2 ~ pattern) } bad && start == "" { start = $1 } !bad && start != "" { if ($1 - start > max) max = $1 - start; start = "" } END { printf "%.2f", max + 0 }'; }
echo "    during migrate --apply, https://a1.example.com/ every 50 ms ($(ct sh -c "wc -l < /root/probe.log") requests): nothing answered for $(longest '^000$') s at most, 5xx for $(longest '^5') s at most"
check "3. migrate --apply exits 0" "[ $RC = 0 ]"
check "3. nginx stopped and disabled, certbot's timer too; the appliance active" \
    "! ct systemctl is-active --quiet nginx && ! ct systemctl is-enabled --quiet nginx && ! ct systemctl is-enabled --quiet certbot.timer && ct systemctl is-active --quiet openalgo-appliance"
check "3. each .env changed in WEBSOCKET_PORT only" \
    "ct grep -qx \"WEBSOCKET_PORT='8767'\" /var/python/openalgo-flask/openalgo1/.env && ct grep -qx \"WEBSOCKET_PORT='8768'\" /var/python/openalgo-flask/openalgo2/.env"
RC1=0; TAIL=12 run_block "DOMAIN=a1.example.com KEY=nspawn-key-1" 6 || RC1=$?
RC2=0; TAIL=12 run_block "DOMAIN=b2.example.com KEY=nspawn-key-2" 6 || RC2=$?
check "4. verify passes for both sites (TLS, /ws, authenticate, subscribe, first tick)" "[ $RC1 = 0 ] && [ $RC2 = 0 ]"
check "4. each site reaches its own instance over HTTPS; a key works only on its own site" \
    "site_ok a1.example.com nspawn-key-1 && site_ok b2.example.com nspawn-key-2 && ! ct openalgo-appliance verify https://a1.example.com/ --api-key nspawn-key-2 >/dev/null 2>&1"
# In the service's own mount namespace (as root there, so only the mounts stop it): the migration's
# directory is empty and rollback.sh, rewritten after the service started, is still read-only; on
# the machine both belong to root, not to the service's user.
SERVICE_PID=$(svc MainPID)
in_service() { ct nsenter -t "$SERVICE_PID" -m "$@"; }
check "4. the backups and rollback.sh are out of the service's reach (service pid $SERVICE_PID)" \
    "[ \"\$SERVICE_PID\" -gt 0 ] && in_service true && [ -n \"\$(ct ls -A /var/lib/openalgo-appliance/migration)\" ] && [ -z \"\$(in_service ls -A /var/lib/openalgo-appliance/migration 2>/dev/null)\" ] && ! in_service touch /var/lib/openalgo-appliance/rollback.sh 2>/dev/null"
# The backups inside keep their files' owners (cp -a: the restore is byte for byte, owner included);
# the directory that holds them is root's alone.
record_is_roots() { [ "$(ct stat -c '%U %a' /var/lib/openalgo-appliance/migration /var/lib/openalgo-appliance/rollback.sh | sort -u)" = "root 700" ]; }
check "4. the migration's directory and rollback.sh are root's alone (0700)" "record_is_roots"
[ "$LAST_FAILED" = 0 ] || ct ls -la /var/lib/openalgo-appliance /var/lib/openalgo-appliance/migration | sed 's/^/    /'
RC=0; TAIL=14 run_block "" 7 || RC=$?
check "4. ss and systemctl status" "[ $RC = 0 ]"

RC=0; TAIL=20 run_block "" 8 || RC=$?
check "5. rollback.sh exits 0: nginx back, the appliance stopped (and $APPLIANCE_ENABLED, as before)" \
    "[ $RC = 0 ] && ct systemctl is-active --quiet nginx && ct systemctl is-enabled --quiet nginx && ct systemctl is-enabled --quiet certbot.timer && ! ct systemctl is-active --quiet openalgo-appliance && [ \"\$(ct systemctl is-enabled openalgo-appliance 2>/dev/null || true)\" = \"\$APPLIANCE_ENABLED\" ]"
for _ in $(seq 1 60); do site_ok a1.example.com nspawn-key-1 2>/dev/null && site_ok b2.example.com nspawn-key-2 2>/dev/null && break; sleep 1; done
check "5. nginx serves both sites over HTTPS and /ws again; every .env byte for byte" \
    "site_ok a1.example.com nspawn-key-1 && site_ok b2.example.com nspawn-key-2 && [ \"\$(sha_envs)\" = \"\$ENV_BEFORE\" ]"
[ "$LAST_FAILED" = 0 ] || { site_why a1.example.com nspawn-key-1; site_why b2.example.com nspawn-key-2; }

APPENDIX=$(doc_block 10)
RC=0; TAIL=6 run_block "$APPENDIX" 11 || RC=$?
check "A.2 configuration written, check passes, both certificates imported" "[ $RC = 0 ]"
check "A.2 the imported files are the service's, the migration's record still root's" \
    "record_is_roots && [ -z \"\$(ct find /var/lib/openalgo-appliance/sites ! -user openalgo-appliance)\" ]"
RC=0; TAIL=3 run_block "$APPENDIX" 12 || RC=$?
check "A.3 proxies' ports moved by hand" "[ $RC = 0 ]"
RC=0; TAIL=3 run_block "$APPENDIX" 13 || RC=$?
for _ in $(seq 1 30); do site_ok b2.example.com nspawn-key-2 2>/dev/null && break; sleep 1; done
check "A.4 switched over by hand: both sites through the appliance" "[ $RC = 0 ] && ! ct systemctl is-active --quiet nginx && site_ok a1.example.com nspawn-key-1 && site_ok b2.example.com nspawn-key-2"
RC=0; TAIL=3 run_block "$APPENDIX" 14 || RC=$?
for _ in $(seq 1 30); do site_ok b2.example.com nspawn-key-2 2>/dev/null && break; sleep 1; done
check "A.5 back to nginx by hand: both sites through nginx, the ports as before" \
    "[ $RC = 0 ] && ct systemctl is-active --quiet nginx && site_ok a1.example.com nspawn-key-1 && site_ok b2.example.com nspawn-key-2 && [ \"\$(sha_envs)\" = \"\$ENV_BEFORE\" ]"
RC=0; TAIL=4 run_block "" 9 || RC=$?
check "after a settling period: ufw's rules without nginx's profile" "[ $RC = 0 ] && ! ct ufw show added | grep -q 'Nginx Full'"

step "result"
echo "$SYSTEMD_VERSION; $((SECONDS - START)) s"
if [ "$FAILED" = 0 ]; then echo "ALL PASSED"; else echo "SOME CHECKS FAILED"; exit 1; fi
