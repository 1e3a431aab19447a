#!/usr/bin/env bash
# README's test command: installs the apt packages the suite needs (tests/apt-packages.txt) when
# any is missing — as root with apt-get, otherwise through sudo — then runs the whole suite.
#   tests/run.sh                       # prerequisites, then dotnet test OpenAlgo.Appliance.sln
#   tests/run.sh --filter "FullyQualifiedName~Acme"   # extra arguments go to dotnet test
#   tests/run.sh --prerequisites-only  # install what is missing (nothing to do: no apt, no sudo), then stop
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
missing=()
while read -r package condition _; do
    [ -n "$package" ] || continue
    packages+=("$package")
    # "PACKAGE command:NAME": wanted only when no NAME is on PATH (another package may provide it).
    if [ "${condition#command:}" != "${condition:-}" ] && command -v "${condition#command:}" >/dev/null; then continue; fi
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done < <(sed 's/#.*//' tests/apt-packages.txt)

if [ ${#missing[@]} -eq 0 ]; then
    echo "test prerequisites: all ${#packages[@]} apt packages installed"
else
    echo "test prerequisites: installing ${missing[*]}"
    if [ "$(id -u)" = "0" ]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "tests/run.sh: ${missing[*]} missing, and no sudo to install them. Fix: as root, apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--prerequisites-only" ]; then
    exit 0
fi
if ! command -v dotnet >/dev/null; then
    echo "tests/run.sh: no dotnet on PATH. Fix: install the .NET 10 SDK (README.md, \"Get the .NET 10 SDK\")." >&2
    exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet test OpenAlgo.Appliance.sln "$@"
