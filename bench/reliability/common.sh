# Sourced by bench/reliability/{fuzz,hold,overload,storm}.sh after they set NAME, REPO and OUT:
# the server binary (BINARY, native AOT, published to <repo>/publish when it is the default and
# missing), the harness (built in Release), log(), and OUT created.
BINARY="${BINARY:-$REPO/publish/openalgo-appliance}"
HARNESS_DLL="$REPO/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll"

log() { echo "[$NAME $(date +%H:%M:%S)] $*" >&2; }

if [[ "$BINARY" == "$REPO/publish/openalgo-appliance" && ! -x "$BINARY" ]]; then
  log "publishing the server (native AOT) to $REPO/publish ..."
  dotnet publish "$REPO/src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj" -c Release -r linux-x64 -o "$REPO/publish"
fi
log "building the harness ..."
dotnet build "$REPO/bench/OpenAlgo.Appliance.Bench" -c Release --nologo -v quiet
mkdir -p "$OUT"
