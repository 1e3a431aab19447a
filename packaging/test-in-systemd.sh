#!/usr/bin/env bash
# Opt-in end-to-end check under a real systemd 252 (not part of .ci/run: it bootstraps Debian,
# ~2-5 minutes). Installs the .deb into a booted systemd-nspawn Debian 12 container and checks:
#   fresh install does not start the service; enable --now → active with READY/STATUS;
#   a frozen process (SIGSTOP) is killed by the watchdog and restarted; an upgrade restarts the
#   service; purge removes state, logs, configuration and the user.
# Usage (as root):  packaging/test-in-systemd.sh [path/to.deb]
# Needs: apt-get install debootstrap systemd-container; network access to the Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB=${1:-}
if [ -z "$DEB" ]; then
    OUT=$(mktemp -d) packaging/build-deb.sh >/dev/null
    DEB=$(ls -t artifacts/openalgo-appliance_*_amd64.deb 2>/dev/null | head -1 || true)
    [ -n "$DEB" ] || DEB=$(ls -t "$OUT"/*.deb | head -1)
fi
ROOT=${ROOT:-/var/tmp/openalgo-appliance-nspawn}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MACHINE=oaappliance$$

step() { printf '\n== %s\n' "$*"; }
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; FAILED=1; fi; }
FAILED=0

if [ ! -x "$ROOT/lib/systemd/systemd" ]; then
    step "debootstrap bookworm into $ROOT"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libssl3,ca-certificates,procps,init-system-helpers bookworm "$ROOT" "$MIRROR" >/dev/null
fi
cp "$DEB" "$ROOT/root/pkg.deb"
# The second package of the upgrade step: same binary, higher version.
UPGRADE_DIR=$(mktemp -d)
VERSION_NEXT="$(dpkg-deb -f "$DEB" Version)+upgrade1"
(mkdir -p "$UPGRADE_DIR/x" && dpkg-deb -R "$DEB" "$UPGRADE_DIR/x" && sed -i "s/^Version: .*/Version: $VERSION_NEXT/" "$UPGRADE_DIR/x/DEBIAN/control" \
    && dpkg-deb --root-owner-group --build "$UPGRADE_DIR/x" "$ROOT/root/pkg-next.deb" >/dev/null)

step "boot the container"
systemd-nspawn --register=no --keep-unit --private-network -D "$ROOT" -M "$MACHINE" -b --console=passive >/tmp/$MACHINE.console 2>&1 &
NSPAWN=$!
cleanup() { kill "$NSPAWN" 2>/dev/null || true; wait "$NSPAWN" 2>/dev/null || true; rm -rf "$UPGRADE_DIR"; }
trap cleanup EXIT
LEADER=""
for _ in $(seq 1 60); do
    LEADER=$(pgrep -P "$NSPAWN" -x systemd || true)
    [ -n "$LEADER" ] && break
    sleep 1
done
[ -n "$LEADER" ] || { echo "container did not boot"; cat /tmp/$MACHINE.console; exit 1; }
ct() { nsenter -t "$LEADER" -m -u -i -n -p -- "$@"; }
for _ in $(seq 1 60); do state=$(ct systemctl is-system-running 2>/dev/null || true); case $state in running|degraded) break;; esac; sleep 1; done
echo "systemd in container: $(ct systemctl --version | head -1), state $state"

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
# A short watchdog so the freeze test takes seconds, not the unit's 30 s.
ct mkdir -p /etc/systemd/system/openalgo-appliance.service.d
ct sh -c 'printf "[Service]\nWatchdogSec=4s\n" > /etc/systemd/system/openalgo-appliance.service.d/test.conf'
ct systemctl daemon-reload
ct systemctl enable --now openalgo-appliance
check "active after enable --now" "ct systemctl is-active --quiet openalgo-appliance"
echo "status: $(ct systemctl show -p StatusText --value openalgo-appliance)"
check "verify passes inside the container" "ct openalgo-appliance verify https://127.0.0.1/ --api-key nspawn-test-key --symbol NSE:RELIANCE | tee /dev/stderr | grep -q 'verify: OK'"
check "state directory 0700, owned by the service user" "[ \"\$(ct stat -c '%a %U' /var/lib/openalgo-appliance)\" = '700 openalgo-appliance' ]"
check "log file written" "ct sh -c 'ls /var/log/openalgo-appliance/openalgo-appliance-*.log' >/dev/null"

step "watchdog: freeze the process"
PID1=$(ct systemctl show -p MainPID --value openalgo-appliance)
ct kill -STOP "$PID1"
for _ in $(seq 1 30); do
    PID2=$(ct systemctl show -p MainPID --value openalgo-appliance)
    [ "$PID2" != "$PID1" ] && [ "$PID2" != "0" ] && ct systemctl is-active --quiet openalgo-appliance && break
    sleep 1
done
check "frozen process killed by the watchdog and restarted (NRestarts=$(ct systemctl show -p NRestarts --value openalgo-appliance))" "[ \"\$PID2\" != \"\$PID1\" ] && ct systemctl is-active --quiet openalgo-appliance"

step "upgrade"
PID3=$(ct systemctl show -p MainPID --value openalgo-appliance)
ct dpkg -i /root/pkg-next.deb
sleep 2
PID4=$(ct systemctl show -p MainPID --value openalgo-appliance)
check "upgrade restarted the service ($PID3 -> $PID4)" "[ \"\$PID4\" != \"\$PID3\" ] && ct systemctl is-active --quiet openalgo-appliance"
check "admin's configuration kept on upgrade" "ct grep -q appliance.test /etc/openalgo-appliance/appsettings.Production.json"

step "purge"
ct dpkg -P openalgo-appliance
check "state removed" "! ct test -e /var/lib/openalgo-appliance"
check "logs removed" "! ct test -e /var/log/openalgo-appliance"
check "configuration removed" "! ct test -e /etc/openalgo-appliance"
check "user removed" "! ct getent passwd openalgo-appliance >/dev/null"

step "result"
[ "$FAILED" = 0 ] && echo "ALL PASSED" || { echo "SOME CHECKS FAILED"; exit 1; }
