#!/usr/bin/env bash
# Failover benchmark in local mode. For each fault it runs TRIALS trials on a running pgha cluster
# and prints, per trial, the write gap a new client of the router saw (the longest time without any
# acknowledged write, from the last one before the fault on), when the monitor recorded the new
# primary (relative to the fault), how long after that record the first write was acknowledged
# through the router (the router following the new primary, and in quorum mode a standby
# streaming from it), and the acknowledged writes lost; then median and worst gap per fault.
#
#   PGHA_HOME=... monitor/bench/failover.sh [TRIALS] [FAULT...]     (default 5, kill stop)
#
# Faults: kill = SIGKILL of the primary's postmaster (its backends stay until fenced);
#         stop = SIGSTOP of the postmaster and every child (a hung primary), resumed after the
#                failover so the fenced processes can go.
# The cluster must be up (deploy/local/pgha up -f deploy/examples/sync-quorum.yaml). WRITERS
# (default 6) loops each insert sequential ids into bench_acked through the router's read-write
# port, one new psql connection per insert bounded by WRITE_TIMEOUT seconds (default 2; a write
# to a hung primary is abandoned then and retried), so a new client's experience is sampled every
# 1/WRITERS of that at worst. A write psql reports as committed counts as acknowledged. Between
# trials it waits until the former primary rejoined as a standby and every instance is healthy.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGHA=$ROOT/deploy/local/pgha
TRIALS=${1:-5}
shift || true
if [ $# -gt 0 ]; then FAULTS=("$@"); else FAULTS=(kill stop); fi
WRITERS=${WRITERS:-6}
WRITE_TIMEOUT=${WRITE_TIMEOUT:-2}
: "${PGHA_HOME:?set PGHA_HOME to the state directory of a running cluster}"
: "${PGHA_PORT_BASE:=$(cat "$PGHA_HOME/run/port-base" 2>/dev/null || echo 6432)}"
export PGHA_HOME PGHA_PORT_BASE
for f in "${FAULTS[@]}"; do
  case $f in kill | stop) ;; *) echo "unknown fault '$f': use kill or stop" >&2; exit 2 ;; esac
done
WORK=$(mktemp -d)
stopped=()
cleanup() {
  [ ${#stopped[@]} -eq 0 ] || kill -CONT "${stopped[@]}" 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
status() { "$PGHA" status --json; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
primary() { status | field 'd["currentPrimary"]'; }
ROUTER=$("$PGHA" uri --rw)
CLUSTER=$(status | field 'd["name"]')
STORE=$PGHA_HOME/store/postgresclusters/default/$CLUSTER.json  # the monitor's record, with the failover history

writer() { # OUT FIRST_ID: appends "id epoch_ms" per acknowledged insert; ids FIRST_ID, FIRST_ID+WRITERS, ...
  local out=$1 i=$2
  while :; do
    if timeout -s KILL "$WRITE_TIMEOUT" psql "$ROUTER" -qAtX -v ON_ERROR_STOP=1 \
        -c "INSERT INTO bench_acked VALUES ($i)" >/dev/null 2>&1; then
      echo "$i $(now_ms)" >>"$out"
    fi
    i=$((i + WRITERS))
  done
}

wait_healthy() { # every instance healthy and streaming, nothing fenced, phase Ready
  local deadline=$(($(date +%s) + ${1:-300}))
  until status | field 'int(d["phase"] == "Ready" and all(i.get("healthy") for i in d["instances"]) and not d.get("fenced"))' \
      | grep -qx 1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "cluster did not become healthy" >&2; exit 1; }
    sleep 0.5
  done
}

wait_healthy 120
psql "$ROUTER" -qAtX -c "CREATE TABLE IF NOT EXISTS bench_acked (id bigint PRIMARY KEY)" >/dev/null
next_id=$(psql "$ROUTER" -qAtX -c "SELECT coalesce(max(id), 0) + 1 FROM bench_acked")

printf '%-5s %-6s %-6s %-6s %9s %12s %10s %7s %5s\n' fault trial from to gap_ms recorded_ms routed_ms acked lost
for fault in "${FAULTS[@]}"; do
  : >"$WORK/gaps-$fault"
  for t in $(seq 1 "$TRIALS"); do
    old=$(primary)
    out=$WORK/acked-$fault-$t
    : >"$out"
    for w in $(seq 0 $((WRITERS - 1))); do writer "$out" $((next_id + w)) 2>/dev/null & done
    until [ "$(wc -l <"$out")" -ge 40 ]; do sleep 0.1; done
    pm=$(head -1 "$PGHA_HOME/instances/$old/data/postmaster.pid")
    if [ "$fault" = stop ]; then
      mapfile -t stopped < <(echo "$pm"; pgrep -P "$pm")
      at=$(now_ms)
      kill -STOP "${stopped[@]}"
    else
      at=$(now_ms)
      kill -KILL "$pm"
    fi
    until new=$(primary 2>/dev/null) && [ -n "$new" ] && [ "$new" != "$old" ]; do sleep 0.05; done
    # keep writing until writes after the fault were acknowledged a few times
    until [ "$(awk -v k="$at" '$2 > k' "$out" | wc -l)" -ge 10 ]; do sleep 0.05; done
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    if [ ${#stopped[@]} -gt 0 ]; then kill -CONT "${stopped[@]}" 2>/dev/null || true; stopped=(); fi
    # the longest stretch without any acknowledgement, from the last one before the fault on (a
    # write already committed can still be reported just after the fault: it does not end the gap)
    gap=$(sort -k2n "$out" | awk -v k="$at" '$2 <= k {p = $2; next} p {if ($2 - p > g) g = $2 - p; p = $2} END {print g + 0}')
    echo "$gap" >>"$WORK/gaps-$fault"
    recorded_ms=$(python3 -c "import json,datetime
h = json.load(open('$STORE'))['status']['topology']['history'][-1]
f = datetime.datetime.fromisoformat(h['finishedAt'].replace('Z', '+00:00'))
print(int(f.timestamp() * 1000) - $at)")
    # after the monitor recorded the new primary: the first write acknowledged through the router
    routed_ms=$(sort -k2n "$out" | awk -v r=$((at + recorded_ms)) '$2 > r {print $2 - r; exit}')
    cut -d' ' -f1 "$out" | sort >"$WORK/acked"
    psql "$ROUTER" -qAtX -c "SELECT id FROM bench_acked" | sort >"$WORK/present"
    lost=$(comm -23 "$WORK/acked" "$WORK/present" | wc -l)
    printf '%-5s %-6s %-6s %-6s %9s %12s %10s %7s %5s\n' "$fault" "$t" "$old" "$new" "$gap" "$recorded_ms" "${routed_ms:--}" \
      "$(wc -l <"$out")" "$lost"
    next_id=$(($(sort -n "$WORK/acked" | tail -1) + 1000))
    wait_healthy 300
  done
done

for fault in "${FAULTS[@]}"; do
  sort -n "$WORK/gaps-$fault" | awk -v f="$fault" '{a[NR]=$1} END {
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%-4s write gap through the router (ms): median %d  worst %d  best %d  over %d trials\n", f, m, a[NR], a[1], NR }'
done
