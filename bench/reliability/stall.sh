#!/usr/bin/env bash
# The long form of "a client that reads nothing" (docs/reliability.md): the CI test
# AbuseTests.A_client_that_reads_nothing_is_conflated_then_closed_as_configured_and_nobody_else_is_slowed
# with Limits:SlowClientTimeoutSeconds = STALL_SECONDS (and the default 4,096-frame queue), so the
# client subscribes to 20 symbols ticked 1,000 times a second (1 KB each) and then reads nothing for
# STALL_SECONDS: conflated all along, closed with 1008 at the configured time, while three clients on
# the same symbols get every tick in order. It prints a sample a minute and the latency of the three
# fast clients before, during and after. It runs
#   RELIABILITY_STALL_SECONDS=$STALL_SECONDS tests/run.sh --filter "FullyQualifiedName~AbuseTests.A_client_that_reads_nothing"
#       --logger "console;verbosity=detailed"
#
# usage: bench/reliability/stall.sh                    # 10 minutes
#        STALL_SECONDS=60 bench/reliability/stall.sh   # a quick look
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STALL_SECONDS="${STALL_SECONDS:-600}"
echo "[stall $(date +%H:%M:%S)] a client reads nothing for $STALL_SECONDS s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
set +e
RELIABILITY_STALL_SECONDS="$STALL_SECONDS" "$REPO/tests/run.sh" --filter "FullyQualifiedName~AbuseTests.A_client_that_reads_nothing" \
    --logger "console;verbosity=detailed"
rc=$?
set -e
echo "[stall $(date +%H:%M:%S)] done (exit $rc; load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
exit "$rc"
