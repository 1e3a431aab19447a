#!/usr/bin/env bash
# Sites must cost nothing on the tick path: the fan-out scenario with one site and with three sites
# (the same clients, symbols and ticks split evenly: each site at a third of the rate), interleaved
# on the same binary so drift on a shared machine hits both alike.
#
# usage: bench/sites/run.sh                      # fanout over ws, RUNS=3 of each
#        RUNS=5 TRANSPORTS="ws wss" bench/sites/run.sh
#
# For run in 1..RUNS, for SITES in 1 3, it runs bench/run.sh once (a fresh server per run):
#   OUT=$OUT/run<run>-sites<SITES> RUNS=1 SCENARIOS=fanout TRANSPORTS=<transport> SITES=<SITES> \
#     HTTPS_PORT=38443 INTERNAL_PORT=38765 ZMQ_PORT=35555 ADMIN_PORT=39765 SERVER_BINARY=… bench/run.sh
# then prints the median table of all runs (openalgo-bench summarize), the load average before each
# run, and the ratio of the medians of server CPU per delivery (three sites ÷ one site).
#
# Tunables: RUNS=3 TRANSPORTS=ws DURATION=20 WARMUP=5 SERVER_BINARY=<repo>/publish/openalgo-appliance
#   OUT=/tmp/sites-bench/<timestamp>  (ports above: not bench/run.sh's defaults, so both can run)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS="${RUNS:-3}"
TRANSPORTS="${TRANSPORTS:-ws}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
SERVER_BINARY="${SERVER_BINARY:-$REPO/publish/openalgo-appliance}"
OUT="${OUT:-/tmp/sites-bench/$(date +%Y%m%d-%H%M%S)}"
HARNESS_DLL="$REPO/bench/OpenAlgo.Appliance.Bench/bin/Release/net10.0/openalgo-bench.dll"

log() { echo "[sites $(date +%H:%M:%S)] $*" >&2; }

mkdir -p "$OUT"
: >"$OUT/results.jsonl"
: >"$OUT/loadavg.txt"
failures=0
for run in $(seq 1 "$RUNS"); do
  for transport in $TRANSPORTS; do
    for sites in 1 3; do
      load="$(cut -d' ' -f1-3 /proc/loadavg)"
      echo "run $run $transport sites $sites: load average $load" | tee -a "$OUT/loadavg.txt" >&2
      if ! OUT="$OUT/run$run-$transport-sites$sites" RUNS=1 SCENARIOS=fanout TRANSPORTS="$transport" SITES="$sites" \
          DURATION="$DURATION" WARMUP="$WARMUP" SERVER_BINARY="$SERVER_BINARY" \
          HTTPS_PORT=38443 INTERNAL_PORT=38765 ZMQ_PORT=35555 ADMIN_PORT=39765 \
          STATE_DIR="$OUT/state" LOGS_DIR="$OUT/logs" "$REPO/bench/run.sh" >"$OUT/run$run-$transport-sites$sites.log" 2>&1; then
        log "run $run ($transport, $sites sites) failed: see $OUT/run$run-$transport-sites$sites.log"
        failures=$((failures + 1))
      fi
      cat "$OUT/run$run-$transport-sites$sites/results.jsonl" >>"$OUT/results.jsonl" 2>/dev/null || true
    done
  done
done

echo
dotnet "$HARNESS_DLL" summarize "$OUT/results.jsonl" | tee "$OUT/summary.md"
echo
cat "$OUT/loadavg.txt"
# Per label: every run's server CPU µs per delivery, the median, and three sites ÷ one site.
jq -rs '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def metric($k): [.metrics[] | select(.key == $k) | .value][0];
  map({label: .label, cpu: metric("server_cpu_us_per_msg"), loss: metric("loss_pct"), foreign: metric("foreign_cpu_pct")})
  | group_by(.label)
  | map({label: .[0].label, runs: map(.cpu * 100 | round / 100), median: (map(.cpu) | median), loss: (map(.loss) | max), foreign: map(.foreign * 10 | round / 10)})
  | (.[] | "\(.label): server CPU µs per delivery \(.runs) → median \(.median * 100 | round / 100); max loss \(.loss) %; foreign CPU % \(.foreign)"),
    (if length == 2 then "three sites ÷ one site (medians): \(.[1].median / .[0].median * 1000 | round / 1000)" else empty end)
' "$OUT/results.jsonl" | tee -a "$OUT/summary.md"
log "results: $OUT/results.jsonl, summary: $OUT/summary.md"
(( failures == 0 ))
