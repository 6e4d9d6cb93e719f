#!/usr/bin/env bash
# The Kubernetes end-to-end suite with a longer steady state: every pod of the cluster must stay
# Ready, and no container may restart, for SECONDS (default 300) between the TLS checks and the
# planned switchover. CI holds the steady state for 60 s; this is the soak.
#
#   k8s-e2e/soak.sh [SECONDS]
#
# Needs root, like the suite (network namespaces). Builds what it needs first; the Maven log goes
# to $SOAK_LOG (default target/k8s-soak.log). Takes the suite's time (about 6 minutes) plus SECONDS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_HELD=${1:-300}
LOG=${SOAK_LOG:-$ROOT/target/k8s-soak.log}
[ "$SECONDS_HELD" -ge 1 ] 2>/dev/null || { echo "soak.sh: SECONDS must be a whole number, not '$SECONDS_HELD'" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "soak.sh: needs root (the pod runner makes network namespaces)" >&2; exit 1; }

mkdir -p "$(dirname "$LOG")"
echo "soak.sh: steady state held for $SECONDS_HELD s; progress in $LOG" >&2
status=0
(cd "$ROOT" && ./mvnw -B -pl k8s-e2e -am -Dtest=KubernetesPlatformE2ETest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dpgha.k8s.steady-state-seconds="$SECONDS_HELD" verify) >"$LOG" 2>&1 || status=$?
# the restart counts it started from, the verdict, and an assertion's message if one failed
grep -E 'steady state|Tests run:.*KubernetesPlatformE2ETest' "$LOG" >&2 || true
[ "$status" = 0 ] && echo "soak.sh: no pod lost Ready and no container restarted over $SECONDS_HELD s" >&2 \
  || echo "soak.sh: failed: see $LOG" >&2
exit "$status"
