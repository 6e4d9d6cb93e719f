#!/usr/bin/env bash
# Failover benchmark in local mode: repeats the SIGKILL trial N times on a running pgha cluster
# and prints, per trial, the write unavailability a client saw (last acknowledged write before the
# kill to the first acknowledged write after it), the failover the monitor recorded, and the
# acknowledged writes lost; then min/median/max.
#
#   PGHA_HOME=... PGHA_PORT_BASE=... monitor/bench/failover.sh [TRIALS]      (default 5)
#
# The cluster must be up (deploy/local/pgha up -f deploy/examples/sync-quorum.yaml). The writer
# inserts sequential ids, one psql call each, into table bench_acked on the primary the monitor
# reports (directly, until the router exists), following it after a failover. Every commit psql
# reports as successful counts as acknowledged, also one with a warning. Between trials it waits
# until the former primary rejoined as a standby and every instance is healthy.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGHA=$ROOT/deploy/local/pgha
TRIALS=${1:-5}
: "${PGHA_HOME:?set PGHA_HOME to the state directory of a running cluster}"
: "${PGHA_PORT_BASE:=$(cat "$PGHA_HOME/run/port-base" 2>/dev/null || echo 6432)}"
export PGHA_HOME PGHA_PORT_BASE
MONITOR=http://127.0.0.1:$((PGHA_PORT_BASE + 41))
CLUSTER=$(curl -sf "$MONITOR/clusters" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

now_ms() { date +%s%3N; }
topology() { curl -sf --max-time 2 "$MONITOR/clusters/default/$CLUSTER"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
primary() { topology | field 'd["currentPrimary"]'; }
uri() { "$PGHA" uri --superuser --instance "$1"; }

writer() { # OUT: appends "id epoch_ms" per acknowledged insert; follows the primary the monitor reports
  local out=$1 i=$2 target conn
  target=$(primary); conn=$(uri "$target")
  while :; do
    i=$((i + 1))
    if psql "$conn" -qAtX -v ON_ERROR_STOP=1 -c "INSERT INTO bench_acked VALUES ($i)" >/dev/null 2>&1; then
      echo "$i $(now_ms)" >>"$out"
    else
      target=$(primary 2>/dev/null || echo "$target"); conn=$(uri "$target" 2>/dev/null || echo "$conn")
    fi
  done
}

wait_healthy() { # every instance healthy, nothing fenced, no procedure running
  local deadline=$(($(date +%s) + ${1:-300}))
  until topology | field 'int(all(i.get("healthy") for i in d["instances"]) and not d["fenced"] and not d["running"])' \
      | grep -qx 1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "cluster did not become healthy" >&2; exit 1; }
    sleep 0.5
  done
}

wait_healthy 120
psql "$(uri "$(primary)")" -qAtX -c "CREATE TABLE IF NOT EXISTS bench_acked (id bigint PRIMARY KEY)" >/dev/null
next_id=$(psql "$(uri "$(primary)")" -qAtX -c "SELECT coalesce(max(id), 0) FROM bench_acked")

printf '%-6s %-8s %-8s %12s %12s %10s %6s\n' trial killed promoted unavail_ms failover_ms acked lost
declare -a unavailable
for t in $(seq 1 "$TRIALS"); do
  old=$(primary)
  out=$WORK/acked-$t
  : >"$out"
  writer "$out" "$next_id" &
  wpid=$!
  until [ "$(wc -l <"$out")" -ge 50 ]; do sleep 0.1; done
  pm=$(head -1 "$PGHA_HOME/instances/$old/data/postmaster.pid")
  killed=$(now_ms)
  kill -KILL "$pm"
  until new=$(primary 2>/dev/null) && [ -n "$new" ] && [ "$new" != "$old" ]; do sleep 0.05; done
  # keep writing until the new primary acknowledged a few writes
  until awk -v k="$killed" '$2 > k' "$out" | wc -l | grep -qv '^[0-4]$'; do sleep 0.05; done
  kill "$wpid"; wait "$wpid" 2>/dev/null || true
  last_before=$(awk -v k="$killed" '$2 <= k {t=$2} END {print t}' "$out")
  first_after=$(awk -v k="$killed" '$2 > k {print $2; exit}' "$out")
  gap=$((first_after - last_before))
  unavailable+=("$gap")
  failover_ms=$(topology | field 'd["history"][-1]["finishedAt"]' | python3 -c \
    "import sys,datetime; f=datetime.datetime.fromisoformat(sys.stdin.read().strip().replace('Z','+00:00')); print(int(f.timestamp()*1000) - $killed)")
  cut -d' ' -f1 "$out" | sort >"$WORK/acked"
  psql "$(uri "$new")" -qAtX -c "SELECT id FROM bench_acked" | sort >"$WORK/present"
  lost=$(comm -23 "$WORK/acked" "$WORK/present" | wc -l)
  printf '%-6s %-8s %-8s %12s %12s %10s %6s\n' "$t" "$old" "$new" "$gap" "$failover_ms" "$(wc -l <"$out")" "$lost"
  next_id=$(sort -n "$WORK/acked" | tail -1)
  next_id=$((next_id + 1000))
  wait_healthy 300
done

printf '%s\n' "${unavailable[@]}" | sort -n | awk '{a[NR]=$1} END {
  m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "write unavailability (ms): min %d  median %d  max %d  over %d trials\n", a[1], m, a[NR], NR }'
