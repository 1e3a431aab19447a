#!/bin/sh
# Undoes 'openalgo-appliance migrate --apply' (YYYY-MM-DDTHH:MM:SSZ, 1 site(s): example-in).
# Run as root: sudo sh /var/lib/openalgo-appliance/rollback.sh
# Stops the appliance, puts every file the migration changed back byte for byte, and
# brings back the services it stopped. Safe to run again.
set -u
ROOT=$ROOT   # empty: this machine; else the directory a --root rehearsal used
fail=0
run() {
    if [ -n "$ROOT" ]; then echo "(--root rehearsal: not run) $*"; return 0; fi
    echo "+ $*"
    "$@" || { echo "rollback.sh: FAILED: $*" >&2; fail=1; }
}
restore() {
    if cp -a --remove-destination -- "$ROOT$1" "$ROOT$2"; then echo "restored $2"; else echo "rollback.sh: FAILED to restore $2 from $1" >&2; fail=1; fi
}
remove() {
    if [ -e "$ROOT$1" ] || [ -L "$ROOT$1" ]; then rm -f -- "$ROOT$1" && echo "removed $1" || { echo "rollback.sh: FAILED to remove $1" >&2; fail=1; }; fi
}
[ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || { echo "rollback.sh: run as root (sudo sh $0)" >&2; exit 1; }

# 1. Every backup must be there before anything changes.
[ -e "$ROOT"/var/lib/openalgo-appliance/migration/backup/etc/openalgo-appliance/appsettings.Production.json ] || [ -L "$ROOT"/var/lib/openalgo-appliance/migration/backup/etc/openalgo-appliance/appsettings.Production.json ] || { echo "rollback.sh: the backup /var/lib/openalgo-appliance/migration/backup/etc/openalgo-appliance/appsettings.Production.json is missing; nothing was changed" >&2; exit 1; }
[ -e "$ROOT"/var/lib/openalgo-appliance/migration/backup/var/python/openalgo/.env ] || [ -L "$ROOT"/var/lib/openalgo-appliance/migration/backup/var/python/openalgo/.env ] || { echo "rollback.sh: the backup /var/lib/openalgo-appliance/migration/backup/var/python/openalgo/.env is missing; nothing was changed" >&2; exit 1; }

# 2. Stop the appliance: it frees 80, 443 and the internal ports for nginx and OpenAlgo's proxies.
run systemctl disable --now openalgo-appliance.service openalgo-appliance-https.socket openalgo-appliance-http.socket openalgo-appliance-internal.socket

# 3. Files as they were before the migration.
restore /var/lib/openalgo-appliance/migration/backup/var/python/openalgo/.env /var/python/openalgo/.env
restore /var/lib/openalgo-appliance/migration/backup/etc/openalgo-appliance/appsettings.Production.json /etc/openalgo-appliance/appsettings.Production.json
remove /var/lib/openalgo-appliance/sites/example-in/dataprotection/key-GUID.xml
remove /var/lib/openalgo-appliance/sites/example-in/acme/certificate.pem
remove /var/lib/openalgo-appliance/sites/example-in/acme/certificate.key.protected
remove /var/lib/openalgo-appliance/sites/example-in/acme/certificate.imported
rmdir -- "$ROOT"/var/lib/openalgo-appliance/sites/example-in/dataprotection 2>/dev/null || true
rmdir -- "$ROOT"/var/lib/openalgo-appliance/sites/example-in/acme 2>/dev/null || true
rmdir -- "$ROOT"/var/lib/openalgo-appliance/sites/example-in 2>/dev/null || true
rmdir -- "$ROOT"/var/lib/openalgo-appliance/sites 2>/dev/null || true

# 4. Services back, in the reverse order they were changed.
run systemctl enable --now certbot.timer   # certbot renews again
run systemctl enable --now nginx.service   # nginx back on 80/443
run systemctl restart openalgo.service   # OpenAlgo's proxies back on their old ports

if [ "$fail" = 0 ]; then
    date -u '+rolled back %Y-%m-%dT%H:%M:%SZ' > "$ROOT"/var/lib/openalgo-appliance/migration/rolled-back
    echo "rollback complete: nginx serves the sites again"
else
    echo "rollback.sh: some steps failed (above); fix them and run it again" >&2
    exit 1
fi
