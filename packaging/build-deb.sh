#!/usr/bin/env bash
# Builds artifacts/openalgo-appliance_<version>_amd64.deb from a native-AOT publish, then lints it.
#   packaging/build-deb.sh                      # publish + package + lintian
#   PUBLISH_DIR=dir SKIP_PUBLISH=1 packaging/build-deb.sh   # package an existing publish
#   OUT=dir VERSION=1.2.3 LINT=0 ...            # output folder, version, skip lintian
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)}
PUBLISH_DIR=${PUBLISH_DIR:-artifacts/publish}
OUT=${OUT:-artifacts}
if [ "${SKIP_PUBLISH:-0}" != "1" ]; then
    dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o "$PUBLISH_DIR" -p:Version="$VERSION"
fi
test -x "$PUBLISH_DIR/openalgo-appliance" || { echo "no binary in $PUBLISH_DIR" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
DOC=$STAGE/usr/share/doc/openalgo-appliance
install -D -m 0755 "$PUBLISH_DIR/openalgo-appliance" "$STAGE/usr/bin/openalgo-appliance"
for unit in packaging/systemd/*.service packaging/systemd/*.socket; do
    install -D -m 0644 "$unit" "$STAGE/lib/systemd/system/$(basename "$unit")"
done
install -D -m 0644 packaging/systemd/openalgo-appliance.sysusers "$STAGE/usr/lib/sysusers.d/openalgo-appliance.conf"
install -D -m 0644 appsettings.Production.json "$STAGE/etc/openalgo-appliance/appsettings.Production.json"
install -D -m 0644 packaging/debian/copyright "$DOC/copyright"
install -D -m 0644 packaging/debian/lintian-overrides "$STAGE/usr/share/lintian/overrides/openalgo-appliance"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$(date -R -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")/" packaging/debian/changelog.in | gzip -9n > "$DOC/changelog.gz"
chmod 0644 "$DOC/changelog.gz"
# All of docs/: the pages link to each other (scaling.md to the benchmarks it quotes) and to the
# images and example files beside them. Pages are compressed, as Debian policy asks.
(cd docs && find . -type f | sort) | while read -r doc; do
    doc=${doc#./}
    install -d -m 0755 "$(dirname "$DOC/$doc")"
    case "$doc" in
        *.md) gzip -9n < "docs/$doc" > "$DOC/$doc.gz"; chmod 0644 "$DOC/$doc.gz" ;;
        *) install -m 0644 "docs/$doc" "$DOC/$doc" ;;
    esac
done
install -d -m 0755 "$STAGE/usr/share/man/man1"
gzip -9n < packaging/openalgo-appliance.1 > "$STAGE/usr/share/man/man1/openalgo-appliance.1.gz"
chmod 0644 "$STAGE/usr/share/man/man1/openalgo-appliance.1.gz"

install -d -m 0755 "$STAGE/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" packaging/debian/control.in > "$STAGE/DEBIAN/control"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$STAGE/DEBIAN/"
install -m 0644 packaging/debian/conffiles "$STAGE/DEBIAN/conffiles"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's: \./: :' > DEBIAN/md5sums)
chmod 0644 "$STAGE/DEBIAN/md5sums"
find "$STAGE" -type d -exec chmod 0755 {} +

mkdir -p "$OUT"
DEB="$OUT/openalgo-appliance_${VERSION}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"

if [ "${LINT:-1}" = "1" ] && command -v lintian >/dev/null; then
    # lintian refuses to run as root in some setups; nobody can read the .deb from /tmp. It runs
    # from that directory too: lintian changes back to its starting directory, and a checkout
    # under /root (0700) is one nobody cannot enter.
    if [ "$(id -u)" = "0" ] && id nobody >/dev/null 2>&1; then
        COPY=$(mktemp -d); cp "$DEB" "$COPY/"; chmod -R a+rX "$COPY"
        (cd "$COPY" && su -s /bin/sh nobody -c "lintian --fail-on error,warning --suppress-tags-from-file /dev/null '$(basename "$DEB")'")
        rm -rf "$COPY"
    else
        lintian --fail-on error,warning "$DEB"
    fi
fi
