#!/usr/bin/env bash
# Base backup time of pgha against pg_basebackup, in the same run, on a running local cluster:
#   pg_basebackup -Ft -X none --compress=server-zstd to a local directory, from a standby
#   pgha backup  (BASE_BACKUP from a standby, compressed by the server with zstd, into the repository;
#                then waits until its WAL is archived)
# The database is first filled with pgbench -i -s SCALE (default 30, about 450 MB).
#
#   PGHA_HOME=... PGHA_PORT_BASE=... backup/bench/basebackup.sh [SCALE]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGHA=$ROOT/deploy/local/pgha
SCALE=${1:-30}
BIN=${PGHA_PG_BIN:-/usr/lib/postgresql/15/bin}
: "${PGHA_HOME:?set PGHA_HOME to the state directory of the running cluster}"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

cluster=$("$PGHA" status --json | sed -n 's/^{"name":"\([^"]*\)".*/\1/p')
echo "filling $cluster with pgbench -i -s $SCALE ..." >&2
"$BIN/pgbench" -i -q -s "$SCALE" "$("$PGHA" uri --superuser --primary)" >/dev/null 2>&1
size=$("$PGHA" psql -- -Atc "SELECT pg_size_pretty(sum(pg_database_size(oid))) FROM pg_database")
echo "database size: $size" >&2

# both start from the same state: dirty buffers flushed (on a standby, CHECKPOINT is a restartpoint)
# and the fill's WAL archived, so neither pays for the other's checkpoint or for an archive backlog
settle() {
  local instance seg
  for instance in $("$PGHA" status --json | grep -o '"name":"[^"]*","role"' | sed 's/"name":"\([^"]*\)".*/\1/'); do
    "$PGHA" psql "$instance" -- -Atqc "CHECKPOINT" >/dev/null
  done
  seg=$("$PGHA" psql -- -Atc "SELECT pg_walfile_name(pg_current_wal_lsn())")
  "$PGHA" psql -- -Atqc "SELECT pg_switch_wal()" >/dev/null
  local deadline=$(($(date +%s) + 120)) last
  while :; do
    last=$("$PGHA" backups --json | sed -n 's/.*"lastArchivedWal":"\([0-9A-F]*\)".*/\1/p')
    { [ "$last" \> "$seg" ] || [ "$last" = "$seg" ]; } && return
    [ "$(date +%s)" -lt "$deadline" ] || { echo "the archive did not reach $seg within 120 s (newest: ${last:-none})" >&2; exit 1; }
    sleep 0.5
  done
}

settle
secret=$PGHA_HOME/secrets/$cluster-replication.json
user=$(sed -n 's/.*"username":"\([^"]*\)".*/\1/p' "$secret")
standby=$("$PGHA" status --json | grep -o '"name":"[^"]*","role":"standby"' | head -n 1 | sed 's/"name":"\([^"]*\)".*/\1/')
port=$("$PGHA" status --json | sed -n "s/.*{\"name\":\"$standby\"[^}]*\"port\":\([0-9]*\).*/\1/p")
out=$(mktemp -d /tmp/pgha-bench-basebackup.XXXXXX)
trap 'rm -rf "$out"' EXIT
start=$(now)
PGPASSWORD=$(sed -n 's/.*"password":"\([^"]*\)".*/\1/p' "$secret") "$BIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U "$user" \
  -D "$out" -F t -X none --checkpoint=fast --compress=server-zstd 2>/dev/null
pgbb_s=$(since "$start")
pgbb_bytes=$(du -cb "$out"/* | tail -n 1 | cut -f1)

settle
start=$(now)
name=$("$PGHA" backup 2>/dev/null | tail -n 1)
pgha_s=$(since "$start")
stored=$("$PGHA" backups --json | sed -n "s/.*\"name\":\"$name\"[^}]*\"sizeBytes\":\([0-9]*\).*/\1/p")
pgha_from=$("$PGHA" backups --json | sed -n "s/.*\"name\":\"$name\"[^}]*\"instance\":\"\([^\"]*\)\".*/\1/p")


printf 'database %s; pg_basebackup from standby %s, pgha backup from %s\n' "$size" "$standby" "$pgha_from"
printf 'pgha backup                                   %6.1f s  %s bytes stored (%s)\n' "$pgha_s" "$stored" "$name"
printf 'pg_basebackup -Ft --compress=server-zstd      %6.1f s  %s bytes written\n' "$pgbb_s" "$pgbb_bytes"
printf 'speed ratio pgha / pg_basebackup: %.2f (1.0 or more: pgha as fast or faster)\n' "$(echo "$pgbb_s / $pgha_s" | bc -l)"
