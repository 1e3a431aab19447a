#!/usr/bin/env bash
# Interleaved A/B of appliance builds on one proxy scenario: each round runs every build once, in
# turn, with bench/proxy/run.sh (ROUNDS=1, appliance only), so load from other work on the machine
# falls on all of them alike. Prints one line per run (with the 1-minute load average at its start)
# and the medians per build; CPU µs/request is the figure to compare (docs/benchmarks.md).
#
#   bench/proxy/ab.sh NAME=BINARY NAME=BINARY ...
#   ROUNDS=4 SCENARIO=small DURATION=8 bench/proxy/ab.sh before=/tmp/pub-a/openalgo-appliance after=/tmp/pub-b/openalgo-appliance
#
# A NAME=BINARY may carry environment for that build after a '|': 'gc=/tmp/pub-a/openalgo-appliance|DOTNET_gcServer=0'.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"
SCENARIO="${SCENARIO:-small}"
DURATION="${DURATION:-8}"
OUT="${OUT:-/tmp/proxy-ab-$(date +%Y%m%d-%H%M%S)}"
[[ $# -ge 1 ]] || { echo "usage: bench/proxy/ab.sh NAME=BINARY[|ENV] ..." >&2; exit 2; }
mkdir -p "$OUT"
RESULTS="$OUT/ab.tsv"
printf 'build\tround\tload1\trps\tp50_ms\tp99_ms\tcpu_us_per_req\n' > "$RESULTS"

for round in $(seq "$ROUNDS"); do
    for spec in "$@"; do
        name=${spec%%=*}; rest=${spec#*=}; binary=${rest%%|*}; env=""
        [[ $rest == *"|"* ]] && env=${rest#*|}
        load=$(cut -d' ' -f1 /proc/loadavg)
        line=$(APPLIANCE_ENV="$env" ROUNDS=1 DURATION="$DURATION" SCENARIOS="$SCENARIO" FRONTENDS=appliance \
            APPLIANCE="$binary" OUT="$OUT/$name-$round" bash "$REPO/bench/proxy/run.sh" 2>/dev/null | awk -F'\t' '$2 == "appliance" && NF == 9')
        IFS=$'\t' read -r _ _ _ rps p50 p99 _ cpu _ <<<"$line"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$load" "$rps" "$p50" "$p99" "$cpu" | tee -a "$RESULTS"
    done
done

echo "| build | runs | requests/s | p99 ms | CPU µs/request (median) | CPU µs/request (each run) |"
echo "|---|---:|---:|---:|---:|---|"
awk -F'\t' 'NR > 1 { n[$1]++; rps[$1, n[$1]] = $4; p99[$1, n[$1]] = $6; cpu[$1, n[$1]] = $7; all[$1] = all[$1] (all[$1] == "" ? "" : ", ") $7; if (!($1 in order)) { order[$1] = ++k; names[k] = $1 } }
    function median(arr, key, count,   i, j, t, v) {
        for (i = 1; i <= count; i++) v[i] = arr[key, i] + 0
        for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    END { for (i = 1; i <= k; i++) { b = names[i]; printf "| %s | %d | %.0f | %.2f | %.1f | %s |\n", b, n[b], median(rps, b, n[b]), median(p99, b, n[b]), median(cpu, b, n[b]), all[b] } }' "$RESULTS" | tee "$OUT/summary.md"
