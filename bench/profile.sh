#!/usr/bin/env bash
# Where the server's CPU goes in one bench/run.sh scenario: system calls and context switches
# counted by perf for 5 s inside the measuring window, then (RECORD=1) 5 s of `perf record -g`.
#
#   bench/profile.sh SCENARIO TRANSPORT OUTDIR          # e.g. bench/profile.sh fanout wss /tmp/prof-fanout
#   RECORD=1 bench/profile.sh throughput wss /tmp/prof-thr
#   perf report -i /tmp/prof-thr/perf.data --children --sort sym --stdio -g none
#
# SERVER_BINARY (default <repo>/publish/openalgo-appliance) runs on private ports (38443, 38765,
# 35555, 39765); for symbols, `perf buildid-cache --add <publish>/openalgo-appliance.dbg` first.
# Needs perf (Debian's linux-perf) and root for the syscall tracepoints.
set -u
S=$1; T=$2; O=$3
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$O"
(SCENARIOS=$S TRANSPORTS=$T RUNS=1 DURATION=20 WARMUP=5 HTTPS_PORT=38443 INTERNAL_PORT=38765 ZMQ_PORT=35555 ADMIN_PORT=39765 \
  SERVER_BINARY="${SERVER_BINARY:-$REPO/publish/openalgo-appliance}" STATE_DIR="$O/state" LOGS_DIR="$O/logs" OUT="$O/run" \
  bash "$REPO/bench/run.sh" >"$O/run.log" 2>&1 &)
P=""
for _ in $(seq 900); do   # run.sh publishes the binary first when it is missing
  P=$(grep -o "server pid [0-9]*" "$O/run.log" 2>/dev/null | awk '{print $3}' | head -1)
  [[ -n "$P" ]] && grep -q "warm-up" "$O/run/bench.log" 2>/dev/null && break
  sleep 1
done
[[ -n "$P" ]] || { echo "the server did not start; see $O/run.log" >&2; exit 1; }
sleep 8   # into the measuring window (warm-up 5 s)
perf stat -e task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_poll,syscalls:sys_enter_futex \
  -p "$P" -- sleep 5 2>"$O/perfstat.txt"
if [[ "${RECORD:-0}" == 1 ]]; then perf record -F 999 -g -p "$P" -o "$O/perf.data" -- sleep 5 >/dev/null 2>&1; fi
until grep -q "raw results" "$O/run.log"; do sleep 2; done
cat "$O/perfstat.txt"
grep -E "^\| $S $T " "$O/run/summary.md"
