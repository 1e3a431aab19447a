#!/usr/bin/env bash
# Auth:Mode=OpenAlgoDatabase benchmarks: Argon2id verification cost and first-time authenticate end to end.
#
# usage: bench/auth/run.sh
#        RUNS=5 VERIFY_RUNS=10 WAIT_QUIET=10 SERVER_BINARY=/tmp/oa-bench-pub/openalgo-appliance OUT=/tmp/auth-bench bench/auth/run.sh
#
# Runs, saving each output to $OUT (default /tmp/auth-bench/<timestamp>):
#   1. argon2.txt        /usr/bin/python3 bench/auth/argon2_verify.py --runs $VERIFY_RUNS
#                        (libargon2 argon2id_verify via ctypes vs argon2-cffi PasswordHasher.verify, t=3 m=64 MiB p=4)
#   2. storm10.txt       /usr/bin/python3 bench/auth/db_auth.py --runs $RUNS --keys 10 --wait-quiet $WAIT_QUIET
#                        (first and cached authenticate; ping RTT of another client while 10 first-time keys authenticate;
#                        OpenAlgo's loop stall for the same keys, emulated with argon2-cffi)
#   3. storm2.txt, storm1.txt   the same with --keys 2 and --keys 1
#   4. storm10-minthreads.txt   step 2 with DOTNET_ThreadPool_ForceMinWorkerThreads=20 (hex: 32 thread-pool threads
#                        from the start) in the appliance's environment - the diagnosis of the stall seen in step 2
# Needs: Debian's python3-argon2 and python3-websocket, libargon2-1, libsqlite3-0, a published appliance
# (dotnet publish src/OpenAlgo.Appliance/OpenAlgo.Appliance.csproj -c Release -r linux-x64 -o /tmp/oa-bench-pub).
# Uses ports 18765 (internal), 18443 (https) and 15555 (ZMQ): do not run next to bench/run.sh or bench/upstream/run.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUNS="${RUNS:-5}"
VERIFY_RUNS="${VERIFY_RUNS:-10}"
WAIT_QUIET="${WAIT_QUIET:-10}"
SERVER_BINARY="${SERVER_BINARY:-/tmp/oa-bench-pub/openalgo-appliance}"
OUT="${OUT:-/tmp/auth-bench/$(date +%Y%m%d-%H%M%S)}"
PY=/usr/bin/python3
mkdir -p "$OUT"
[[ -x "$SERVER_BINARY" ]] || { echo "no appliance at $SERVER_BINARY (publish it first, see the header)" >&2; exit 1; }

echo "== argon2 verification ($(date -Is), load $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" "$HERE/argon2_verify.py" --runs "$VERIFY_RUNS" | tee "$OUT/argon2.txt"
echo "== 10 first-time keys"
"$PY" "$HERE/db_auth.py" --binary "$SERVER_BINARY" --runs "$RUNS" --keys 10 --wait-quiet "$WAIT_QUIET" --out "$OUT/storm10" | tee "$OUT/storm10.txt"
echo "== 2 first-time keys"
"$PY" "$HERE/db_auth.py" --binary "$SERVER_BINARY" --runs "$RUNS" --keys 2 --wait-quiet "$WAIT_QUIET" --out "$OUT/storm2" | tee "$OUT/storm2.txt"
echo "== 1 first-time key"
"$PY" "$HERE/db_auth.py" --binary "$SERVER_BINARY" --runs "$RUNS" --keys 1 --wait-quiet "$WAIT_QUIET" --out "$OUT/storm1" | tee "$OUT/storm1.txt"
echo "== 10 first-time keys, 32 thread-pool threads from the start"
"$PY" "$HERE/db_auth.py" --binary "$SERVER_BINARY" --runs "$RUNS" --keys 10 --wait-quiet "$WAIT_QUIET" --no-emulation \
  --env DOTNET_ThreadPool_ForceMinWorkerThreads=20 --out "$OUT/storm10-minthreads" | tee "$OUT/storm10-minthreads.txt"
echo "outputs in $OUT"
