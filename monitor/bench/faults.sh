#!/usr/bin/env bash
# The fault harness, many trials: runs every fault of the e2e fault tests (io.pgha.e2e.faults) N
# times on a fresh local synchronous-quorum cluster with two monitors, and prints one row per
# fault: trials, acknowledged writes, writes lost, writes acknowledged past a fork, and the median
# and worst write gap (the longest pause between two writes acknowledged through the router).
# The verdict comes from the harness's own checker, not from pgha: it finds the one writable
# instance itself and reads the timeline history from it.
#
#   monitor/bench/faults.sh [N]        (default 20 trials per fault)
#   FAULTS_TESTS='QuorumFaultsE2ETest#monitorLeaderFrozenDuringFailover' monitor/bench/faults.sh 20
#                                      (some faults only: a surefire -Dtest selection)
#
# It also runs the cases CI leaves out (JUnit tag faults-bench: the asynchronous cluster and the
# plain SIGKILL of the primary). Needs root (monitors run in an OS group of their own; partitions
# are nftables rules) and the nftables package. Takes a while: about 15 s per trial on an idle machine. Builds what it needs
# first; the Maven log goes to $FAULTS_LOG (default target/faults.log).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TRIALS=${1:-20}
LOG=${FAULTS_LOG:-$ROOT/target/faults.log}
[ "$TRIALS" -ge 1 ] 2>/dev/null || { echo "faults.sh: N must be a whole number of trials, not '$TRIALS'" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "faults.sh: needs root (monitors in their own OS group, nftables partitions)" >&2; exit 1; }
command -v nft >/dev/null || { echo "faults.sh: nft not found: install nftables (apt-get install -y nftables)" >&2; exit 1; }

mkdir -p "$(dirname "$LOG")"
REPORT=$(mktemp)
trap 'rm -f "$REPORT"' EXIT
echo "faults.sh: $TRIALS trials per fault; progress in $LOG" >&2
status=0
(cd "$ROOT" && ./mvnw -B -pl e2e -am -Dtest="${FAULTS_TESTS:-*FaultsE2ETest}" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dpgha.e2e.excludedGroups= -Dpgha.faults.trials="$TRIALS" -Dpgha.faults.report="$REPORT" verify) >"$LOG" 2>&1 || status=$?

printf '%-44s %6s %8s %5s %9s %10s %9s\n' fault trials acked lost pastFork medianGap worstGap
while IFS=$'\t' read -r fault trials acked lost past median worst; do
  printf '%-44s %6s %8s %5s %9s %9ss %8ss\n' "$fault" "$trials" "$acked" "$lost" "$past" "$median" "$worst"
done <"$REPORT"
if [ "$status" != 0 ]; then
  echo "faults.sh: a fault test failed (a fault without a row did not finish): see $LOG" >&2
  grep -E 'lost:|past the fork|AssertionError|Tests run:.*Fail' "$LOG" | head -n 20 >&2 || true
fi
exit "$status"
