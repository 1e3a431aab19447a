#!/usr/bin/env bash
# Builds artifacts/openalgo-appliance-<version>-linux-x64.tar.gz (+ .sha256): the native binary,
# the systemd units, a sample configuration and INSTALL. Runs anywhere with glibc and OpenSSL 3.
#   packaging/build-tarball.sh
#   PUBLISH_DIR=dir SKIP_PUBLISH=1 OUT=dir VERSION=x.y.z packaging/build-tarball.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)}
PUBLISH_DIR=${PUBLISH_DIR:-artifacts/publish}
OUT=${OUT:-artifacts}
if [ "${SKIP_PUBLISH:-0}" != "1" ]; then
    dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o "$PUBLISH_DIR" -p:Version="$VERSION"
fi
NAME="openalgo-appliance-$VERSION-linux-x64"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
install -D -m 0755 "$PUBLISH_DIR/openalgo-appliance" "$STAGE/$NAME/openalgo-appliance"
install -d -m 0755 "$STAGE/$NAME/systemd"
install -m 0644 packaging/systemd/*.service packaging/systemd/*.socket packaging/systemd/*.sysusers "$STAGE/$NAME/systemd/"
install -m 0644 appsettings.Production.json "$STAGE/$NAME/appsettings.Production.json.sample"
install -m 0644 packaging/INSTALL "$STAGE/$NAME/INSTALL"
# All of docs/: the pages link to each other (scaling.md to the benchmarks it quotes) and to the
# images and example files beside them.
(cd docs && find . -type f | sort) | while read -r doc; do
    install -D -m 0644 "docs/${doc#./}" "$STAGE/$NAME/docs/${doc#./}"
done
mkdir -p "$OUT"
TARBALL="$OUT/$NAME.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-0}" -C "$STAGE" -czf "$TARBALL" "$NAME"
(cd "$OUT" && sha256sum "$NAME.tar.gz" > "$NAME.tar.gz.sha256")
echo "$TARBALL"
