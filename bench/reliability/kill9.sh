#!/usr/bin/env bash
# The long form of CertificateWriteKillTests (docs/reliability.md, "kill -9 during certificate
# writes"): the real executable, ordering a 6-second certificate from Pebble at every start, killed
# with SIGKILL at a random moment of the issuance and write, KILL_ITERATIONS times (default 200);
# every restart must find a valid stored certificate and serve it. Prints the seed (replay with KILL_SEED=N) and the kill moments.
#
# usage: bench/reliability/kill9.sh                     # 200 kills (about 10 min on 2 cores)
#        KILL_ITERATIONS=50 bench/reliability/kill9.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export KILL_ITERATIONS="${KILL_ITERATIONS:-200}"
echo "[kill9 $(date +%H:%M:%S)] $KILL_ITERATIONS kills; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
tests/run.sh --filter "FullyQualifiedName~CertificateWriteKillTests" --logger "console;verbosity=detailed"
echo "[kill9 $(date +%H:%M:%S)] done; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
