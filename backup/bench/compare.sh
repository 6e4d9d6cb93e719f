#!/usr/bin/env bash
# Backup and restore, pgha against the tools users run today, in one run on this machine:
#   backup time   pg_basebackup to local disk (tar, no compression; tar with server-side zstd),
#                 pgBackRest (zst, process-max 2) and `pgha backup`
#   restore time  to the end of the archive with the same amount of WAL to replay on both, at least
#                 RESTORE_WAL_MB MiB since each one's backup started:
#                 pgBackRest (restore, then replay until promoted) and pgha (`pgha up -f` of a
#                 recovery manifest under its own PGHA_HOME): until its primary is Ready (promoted
#                 and made the new cluster's, like for like with pgBackRest's), and until `pgha up`
#                 returns (the monitor and the router answering too)
#   archive lag   the most WAL segments waiting to be archived (archive_status/*.ready) during
#                 ARCHIVE_SECONDS of pgbench tpcb-like at full speed: pgha, and pgBackRest with
#                 archive-async
# and prints the ratios, and where each restore's time went (from the servers' logs: pgha's services
# and plan, the files, the server's start, the redo, the promotion). pgBackRest runs on a plain
# PostgreSQL instance of its own with the same data (pgha manages archive_command on its instances).
#
# Usage: backup/bench/compare.sh [scale] [restore-wal-MB] [archive-seconds]
#        defaults 130 (about 2 GB), 1024, 60. A small smoke run: backup/bench/compare.sh 5 64 10
#        PARTS=backup measures the backups only (no archive lag, no restores).
#        RESTORE_ROUNDS=N restores N times each way (2), alternating which goes first; the
#        restore rows are the means over the rounds, and each round is shown below them.
# Needs: what `deploy/local/pgha up` needs (packaged: ./mvnw -DskipTests package), pgbench, and
# pgbackrest (Debian package). Run as root (PostgreSQL and pgBackRest then run as the postgres
# user) or as an ordinary user. Everything listens on 127.0.0.1 and is removed at exit (KEEP=1
# keeps it). It takes a while at scale 130 (data loading dominates): it says what it is doing.
set -euo pipefail
SCALE="${1:-130}"
RESTORE_WAL_MB="${2:-1024}"
ARCHIVE_SECONDS="${3:-60}"
PARTS="${PARTS:-backup archive restore}"
ROUNDS="${RESTORE_ROUNDS:-2}"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "RESTORE_ROUNDS must be a whole number of rounds, 1 or more, not '$ROUNDS'" >&2; exit 2; }
CLIENTS=8
root="$(cd "$(dirname "$0")/../.." && pwd)"
BIN=/usr/lib/postgresql/15/bin
command -v pgbackrest >/dev/null || { echo "pgbackrest is not installed (apt-get install pgbackrest)" >&2; exit 1; }

# each measurement is said as soon as it is taken, so that a run cut short still shows what it measured
measured() { say "measured: $*"; }
say() { printf '== [%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
mean() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:] if x != '-']; print(f'{sum(v) / len(v):.1f}' if v else '-')" "$@"; }
ratio() { python3 -c "import sys
try: a,b=float(sys.argv[1]),float(sys.argv[2])
except ValueError: a=b=0
print(f'{a/b:.2f}x' if b > 0 else '-')" "$1" "$2"; }
free_base() { python3 -c 'import socket,random
while True:
    b=random.randint(10000,31900); ok=True
    for p in range(b,b+50):
        s=socket.socket()
        try: s.bind(("127.0.0.1",p))
        except OSError: ok=False
        finally: s.close()
        if not ok: break
    if ok: print(b); break'; }

work="$(mktemp -d /tmp/pgha-backup-bench.XXXXXX)"; chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
SRC_HOME="$work/source" DST_HOME="$work/restored"
SRC_BASE="$(free_base)"
pgha="$root/deploy/local/pgha"
# the plain instance for pgBackRest, and its restore, on two ports of the source's range that pgha leaves unused
PLAIN_PORT=$((SRC_BASE + 47)) PLAIN_RESTORED_PORT=$((SRC_BASE + 48))
PLAIN="$work/plain" PLAIN_RESTORED="$work/plain-restored" BR_REPO="$work/pgbackrest-repo" BR_CONF="$work/pgbackrest.conf"
cleanup() {
  local d purge=--purge
  # KEEP=1 keeps both clusters' state and logs for a post-mortem
  [ "${KEEP:-0}" = 1 ] && purge=
  for d in "$PLAIN" "$PLAIN_RESTORED"-*; do
    [ -f "$d/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
  done
  for d in "$DST_HOME"-*; do
    [ -d "$d" ] && PGHA_HOME="$d" PGHA_PORT_BASE= "$pgha" down $purge >/dev/null 2>&1 || true
  done
  PGHA_HOME="$SRC_HOME" PGHA_PORT_BASE="$SRC_BASE" "$pgha" down $purge >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] && { echo "kept $work" >&2; return; }
  rm -rf "$work" 2>/dev/null || { sleep 2; rm -rf "$work"; }
}
trap cleanup EXIT

# The most .ready files seen in DATADIR/pg_wal/archive_status while PID runs (sampled every 100 ms).
max_waiting() {
  local dir=$1/pg_wal/archive_status pid=$2 most=0 n
  while kill -0 "$pid" 2>/dev/null; do
    n=$(as_pg find "$dir" -name '*.ready' 2>/dev/null | wc -l)
    [ "$n" -gt "$most" ] && most=$n
    sleep 0.1
  done
  echo "$most"
}

# Runs pgbench tpcb-like against a conninfo until the server's WAL position moved by MB megabytes.
# Waits until both archives hold everything written so far.
caught_up() {
  local deadline=$(($(date +%s) + 600))
  until [ "$(as_pg find "$PRIMARY_DATA/pg_wal/archive_status" -name '*.ready' | wc -l)" = 0 ] \
      && [ "$(as_pg find "$PLAIN/pg_wal/archive_status" -name '*.ready' | wc -l)" = 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "archiving did not catch up within 600 s" >&2; exit 1; }
    sleep 0.5
  done
}

# Writes WAL on CONN until MB MiB were written since LSN (where its backup began), in one-second
# runs: both restores then replay about the same amount, whatever each instance wrote before
# (each backup itself writes some).
write_wal() {
  local conn=$1 mb=$2 from=$3
  while [ "$(psql -X -Atc "SELECT (pg_current_wal_lsn() - '$from') / 1048576 >= $mb" "$conn")" != t ]; do
    "$BIN/pgbench" -n -c "$CLIENTS" -j 2 -T 1 "$conn" >/dev/null 2>&1
  done
}
# Inserts rows into a table of its own on CONN, about 8 MiB of WAL at a time, until MB MiB were
# written since LSN: WAL to replay that leaves pgbench's tables as they are.
top_up() {
  local conn=$1 mb=$2 from=$3
  psql -X -qc "CREATE TABLE IF NOT EXISTS bench_filler (pad text)" "$conn"
  while [ "$(psql -X -Atc "SELECT (pg_current_wal_lsn() - '$from') / 1048576 >= $mb" "$conn")" != t ]; do
    psql -X -qc "INSERT INTO bench_filler SELECT repeat('x', 200) FROM generate_series(1, 30000)" "$conn"
  done
}
wal_mib_since() { psql -X -Atc "SELECT round((pg_current_wal_lsn() - '$2') / 1048576)" "$1"; }
# The WAL a restored server replayed, in MiB, from its log's "redo starts at" and "redo done at".
replayed_mib() { as_pg cat "$1" | python3 -c 'import re,sys
log=sys.stdin.read()
lsn=lambda s: (lambda h,l: (int(h,16)<<32)+int(l,16))(*s.split("/"))
a=re.search(r"redo starts at (\S+)",log); b=re.search(r"redo done at (\S+)",log)
print(round((lsn(b.group(1))-lsn(a.group(1)))/1048576) if a and b else "-")'; }

# Where a restore's time went, from its server's log LOG (log_line_prefix starts with %m on both):
# phases LOG T0 END [FROM], T0 in epoch seconds, END and FROM in seconds since T0 (FROM, where the
# files start, default 0). Prints four durations, tab-separated: the files restored (until the
# server logs its start), the server's start until redo begins, the redo, and the rest until END
# (promotion, and for pgha the roles' take-over).
phases() { as_pg cat "$1" | python3 -c 'import re,sys,datetime
t0,end,start=float(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); log=sys.stdin.read()
def at(pattern):
    m=re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (?:UTC|GMT) .*"+pattern,log,re.M)
    return datetime.datetime.strptime(m.group(1),"%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()-t0 if m else None
marks=[start,at("starting PostgreSQL"),at("redo starts at"),at("redo done at"),end]
print("\t".join(f"{b-a:.1f}" if a is not None and b is not None else "-" for a,b in zip(marks,marks[1:])))' "$2" "$3" "${4:-0}"; }

########## pgha: the source cluster
say "pgha cluster on ports $SRC_BASE.. (state in $SRC_HOME)"
mkdir -p "$SRC_HOME"
export PGHA_HOME="$SRC_HOME" PGHA_PORT_BASE="$SRC_BASE"
# services start slowly on a loaded machine
export PGHA_SERVICE_START_TIMEOUT="${PGHA_SERVICE_START_TIMEOUT:-300}"
"$pgha" up >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
PRIMARY=$("$pgha" uri --superuser --primary)
PRIMARY_DATA=$(psql -X -Atc "SHOW data_directory" "$PRIMARY")
# pg_hba.conf lets only the replication role make replication connections: pg_basebackup uses it, as pgha does
PRIMARY_PORT=$(psql -X -Atc "SELECT inet_server_port()" "$PRIMARY")
read -r REPL_USER REPL_PASSWORD < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["username"], c["password"])' "$SRC_HOME/secrets/pg-replication.json")
# pg_basebackup as it runs by default: its files fsynced before it returns, as pgBackRest's and pgha's
# repositories are (until run 18 it ran with --no-sync)
basebackup() { PGPASSWORD="$REPL_PASSWORD" "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$REPL_USER" -Ft -X none --checkpoint=fast "$@"; }
say "loading pgbench scale $SCALE into the pgha cluster"
load() { "$BIN/pgbench" -i -q -s "$SCALE" "$1" >"$work/load.log" 2>&1 || { echo "loading pgbench's tables failed (a full disk?):" >&2; tail -n 3 "$work/load.log" >&2; exit 1; }; }
load "$PRIMARY"
psql -X -qc CHECKPOINT "$PRIMARY"
DB_BYTES=$(psql -X -Atc "SELECT sum(pg_database_size(datname)) FROM pg_database" "$PRIMARY")
say "database size $((DB_BYTES / 1048576)) MiB"

########## the plain instance for pgBackRest, same data
say "plain PostgreSQL on $PLAIN_PORT for pgBackRest, scale $SCALE"
# with data checksums, like pgha's instances: pgBackRest then checks every page as it backs it up, as
# pg_basebackup does for pgha, and a read that sets hint bits writes the same WAL on both
as_pg "$BIN/initdb" -D "$PLAIN" -U postgres --auth=trust --data-checksums >/dev/null
mkdir -p "$BR_REPO" "$work/pgbackrest-log" "$work/pgbackrest-spool" "$work/pgbackrest-lock"
cat > "$BR_CONF" <<CONF
[global]
repo1-path=$BR_REPO
repo1-retention-full=2
compress-type=zst
process-max=2
archive-async=y
spool-path=$work/pgbackrest-spool
lock-path=$work/pgbackrest-lock
log-path=$work/pgbackrest-log
log-level-console=warn
start-fast=y

[bench]
pg1-path=$PLAIN
pg1-port=$PLAIN_PORT
pg1-socket-path=$work
CONF
[ "$(id -u)" = 0 ] && chown -R postgres "$BR_REPO" "$work/pgbackrest-log" "$work/pgbackrest-spool" "$work/pgbackrest-lock" "$BR_CONF"
cat >> "$PLAIN/postgresql.conf" <<CONF
port = $PLAIN_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
shared_buffers = 128MB
max_connections = 200
archive_mode = on
archive_command = 'pgbackrest --config=$BR_CONF --stanza=bench archive-push %p'
max_wal_size = 1GB
CONF
as_pg "$BIN/pg_ctl" -D "$PLAIN" -w -l "$work/plain.log" start >/dev/null
PLAIN_CONN="host=127.0.0.1 port=$PLAIN_PORT user=postgres dbname=postgres"
as_pg pgbackrest --config="$BR_CONF" --stanza=bench stanza-create >/dev/null
load "$PLAIN_CONN"
psql -X -qc CHECKPOINT "$PLAIN_CONN"

part() { [[ " $PARTS " == *" $1 "* ]]; }
MAX_PGHA=- MAX_BR=- TPS_PGHA=- TPS_BR=- T_BR_RESTORE=- T_PGHA_RESTORE=- T_PGHA_PRIMARY=-

########## archive lag under full-speed writes
# Before the backups, so that what the restores replay is the WAL written for them (about
# RESTORE_WAL_MB on each), not this run's, which is larger on the faster plain instance.
if part archive; then
say "archive lag: $ARCHIVE_SECONDS s of pgbench tpcb-like, $CLIENTS clients, on each"
"$BIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$ARCHIVE_SECONDS" "$PRIMARY" >"$work/pgbench-pgha.log" 2>&1 &
pb=$!; MAX_PGHA=$(max_waiting "$PRIMARY_DATA" "$pb"); wait "$pb" || true
"$BIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$ARCHIVE_SECONDS" "$PLAIN_CONN" >"$work/pgbench-plain.log" 2>&1 &
pb=$!; MAX_BR=$(max_waiting "$PLAIN" "$pb"); wait "$pb" || true
TPS_PGHA=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench-pgha.log" | head -1)
measured "most waiting: pgha $MAX_PGHA, pgBackRest $MAX_BR"
TPS_BR=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench-plain.log" | head -1)
# the backups below start as before: archives caught up, after a checkpoint
caught_up
psql -X -qc CHECKPOINT "$PRIMARY"
psql -X -qc CHECKPOINT "$PLAIN_CONN"
fi

########## backups
# Every instance checkpointed first, the standbys too: pg_basebackup backs up the primary, whose
# checkpoint the CHECKPOINT above leaves nothing to write, while pgha backs up a standby, whose
# restartpoint (which its backup forces) would otherwise write out what replaying the load and the
# archive-lag run left dirty there (pgha 4.3 s against pg_basebackup's 3.2 s with the primary alone
# checkpointed, 2.1 s against 3.9 s with all, in one pair of runs each).
for instance in $("$pgha" status --json | python3 -c 'import json,sys; print(" ".join(i["name"] for i in json.load(sys.stdin)["instances"]))'); do
  "$pgha" psql "$instance" -X -qc CHECKPOINT
done
say "pg_basebackup -Ft, no compression, to local disk"
t=$(now); basebackup -D "$work/bb-plain"
T_BB_NONE=$(since "$t"); measured "pg_basebackup no compression (s) $T_BB_NONE"; rm -rf "$work/bb-plain"
say "pg_basebackup -Ft --compress=server-zstd to local disk"
t=$(now); basebackup -D "$work/bb-zstd" --compress=server-zstd
T_BB_ZSTD=$(since "$t"); measured "pg_basebackup server-zstd (s) $T_BB_ZSTD"; BB_ZSTD_BYTES=$(du -sb "$work/bb-zstd" | cut -f1); rm -rf "$work/bb-zstd"
say "pgBackRest full backup (zst, process-max 2)"
t=$(now); as_pg pgbackrest --config="$BR_CONF" --stanza=bench --type=full backup >/dev/null
T_BR_BACKUP=$(since "$t"); measured "pgBackRest backup (s) $T_BR_BACKUP"
# where its restore's replay starts
BR_FROM=$(as_pg pgbackrest --config="$BR_CONF" --stanza=bench info --output=json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["lsn"]["start"])')
say "pgha backup"
t=$(now); BACKUP_NAME=$("$pgha" backup 2>"$work/backup.err" | tail -n 1) || { cat "$work/backup.err" >&2; exit 1; }
T_PGHA_BACKUP=$(since "$t"); measured "pgha backup (s) $T_PGHA_BACKUP"
PGHA_BACKUP_BYTES=$("$pgha" backups --json | python3 -c 'import json,sys; b=json.load(sys.stdin)["backups"]; print(b[-1]["sizeBytes"])')
# where its restore's replay starts: a backup from a standby begins at its last restartpoint, which
# may lie well before the primary's position when the backup was asked for
PGHA_FROM=$("$pgha" backups --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["backups"][-1]["beginLsn"])')


########## WAL to replay, then the restores
if part restore; then
# A full read of a table written since the last checkpoint sets hint bits, which with data checksums
# (both instances have them) writes every page again as WAL: 1 GB at scale 130. The check of the
# restored rows below reads it, so read it once first: that WAL counts.
psql -X -qAtc "SELECT sum(abalance) FROM pgbench_accounts" "$PRIMARY" >/dev/null
psql -X -qAtc "SELECT sum(abalance) FROM pgbench_accounts" "$PLAIN_CONN" >/dev/null
# should either have written more than RESTORE_WAL_MB since its backup started, both go to the larger amount
WAL_TARGET=$RESTORE_WAL_MB
for w in "$(wal_mib_since "$PRIMARY" "$PGHA_FROM")" "$(wal_mib_since "$PLAIN_CONN" "$BR_FROM")"; do
  [ "$w" -gt "$WAL_TARGET" ] && WAL_TARGET=$w
done
say "writing WAL on each until about $WAL_TARGET MiB were written since its backup started"
write_wal "$PRIMARY" "$WAL_TARGET" "$PGHA_FROM"
write_wal "$PLAIN_CONN" "$WAL_TARGET" "$BR_FROM"
ROWS_PGHA=$(psql -X -Atc "SELECT sum(abalance) FROM pgbench_accounts" "$PRIMARY")
ROWS_BR=$(psql -X -Atc "SELECT sum(abalance) FROM pgbench_accounts" "$PLAIN_CONN")
# That read writes hint bits as WAL for each page not written since the last checkpoint, which the
# two instances passed at different moments: 0 to 300 MiB more on one than on the other. Rows in a
# table of its own (the accounts' sum stays) bring the other one to the same amount.
WAL_PGHA=$(wal_mib_since "$PRIMARY" "$PGHA_FROM") WAL_BR=$(wal_mib_since "$PLAIN_CONN" "$BR_FROM")
WAL_TARGET=$(( WAL_PGHA > WAL_BR ? WAL_PGHA : WAL_BR ))
top_up "$PRIMARY" "$WAL_TARGET" "$PGHA_FROM"
top_up "$PLAIN_CONN" "$WAL_TARGET" "$BR_FROM"
WAL_PGHA=$(wal_mib_since "$PRIMARY" "$PGHA_FROM") WAL_BR=$(wal_mib_since "$PLAIN_CONN" "$BR_FROM")
say "WAL since the backup's start: pgha $WAL_PGHA MiB, pgBackRest $WAL_BR MiB"
psql -X -qAtc "SELECT pg_switch_wal()" "$PRIMARY" >/dev/null
psql -X -qAtc "SELECT pg_switch_wal()" "$PLAIN_CONN" >/dev/null
caught_up
as_pg "$BIN/pg_ctl" -D "$PLAIN" -m fast -w stop >/dev/null
# Each restore starts on a quiet machine: the source cluster stopped (its repository stays; its
# standbys would still be replaying and writing out the WAL just written), and the page cache written
# out, so that neither restore pays for writes that are not its own.
"$pgha" down >/dev/null
sync

# The restores go in rounds, and every other round the other way round (pgBackRest then pgha, then
# pgha then pgBackRest, ...): a fixed order put the same side second every time, and on this VM the
# restore that went second often came out slower (why, was not found). The table shows the mean of
# the rounds, and each round's phases below it.
pgha_first() { [ $(($1 % 2)) = 0 ]; }   # ROUND
# the source's pgha down above wrote the services' class archives if they had none (deploy/local/pgha)
archived=$(for s in provisioner backup monitor router; do
  for a in "$root/$s/target/quarkus-app/pgha-$s"-*.jsa; do
    [ "$a" -nt "$root/$s/target/quarkus-app/quarkus-run.jar" ] && { echo "$s"; break; }
  done; done | xargs)
cat > "$work/restore.yaml" <<YAML
apiVersion: pgha.io/v1
kind: PostgresCluster
metadata:
  name: restored
spec:
  instances: 1
  parameters:                   # a hot standby's limits at least the source's (deploy/examples/cluster.yaml)
    max_connections: "200"
    shared_buffers: 128MB
  bootstrap:
    recovery:
      sourceCluster: pg
      backup: $BACKUP_NAME
      repository:
        filesystem:
          path: $SRC_HOME/backups
YAML
declare -a T_BR T_PGHA_UP T_PGHA_READY T_PLAN PH_BR PH_PGHA

# restore_br ROUND: pgBackRest's restore into a directory of its own, until the server is promoted
restore_br() {
  local n=$1 t dir="$PLAIN_RESTORED-$1" log="$work/plain-restored-$1.log" conn
  say "round $n: pgBackRest restore to the end of the archive"
  mkdir -p "$dir"; chmod 700 "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
  t=$(now)
  as_pg pgbackrest --config="$BR_CONF" --stanza=bench --pg1-path="$dir" --type=default restore >/dev/null
  # its own port, and no archiving into the source's stanza
  sed -i -e "s/^port = .*/port = $PLAIN_RESTORED_PORT/" -e "s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
  as_pg "$BIN/pg_ctl" -D "$dir" -l "$log" start >/dev/null
  conn="host=127.0.0.1 port=$PLAIN_RESTORED_PORT user=postgres dbname=postgres"
  until [ "$(psql -X -Atc "SELECT NOT pg_is_in_recovery()" "$conn" 2>/dev/null)" = t ]; do
    as_pg "$BIN/pg_ctl" -D "$dir" status >/dev/null || { tail -5 "$log" >&2; exit 1; }
    sleep 0.2
  done
  T_BR[$n]=$(since "$t"); measured "round $n: pgBackRest restore (s) ${T_BR[$n]}"
  PH_BR[$n]=$(phases "$log" "$t" "${T_BR[$n]}")
  [ "$(psql -X -Atc "SELECT sum(abalance) FROM pgbench_accounts" "$conn")" = "$ROWS_BR" ] \
    || { echo "the pgBackRest restore does not hold the data written before it" >&2; exit 1; }
  as_pg "$BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  # the last round's stays for KEEP=1
  [ "$n" = "$ROUNDS" ] || rm -rf "$dir"
  sync
}

# restore_pgha ROUND: `pgha up -f` of the recovery manifest under a PGHA_HOME of its own
restore_pgha() {
  local n=$1 t home="$DST_HOME-$1" out="$work/restore-$1.log"
  say "round $n: pgha restore to the end of the archive (one instance, under $home; class archives: ${archived:-none})"
  mkdir -p "$home"
  t=$(now)
  PGHA_HOME="$home" PGHA_PORT_BASE="$(free_base)" "$pgha" up -f "$work/restore.yaml" >"$out" 2>&1 \
    || { cat "$out" >&2; exit 1; }
  T_PGHA_UP[$n]=$(since "$t"); measured "round $n: pgha restore (s) ${T_PGHA_UP[$n]}"
  # the primary's own Ready, from pgha up's first "Ready:" progress line (seconds since its start)
  T_PGHA_READY[$n]=$(sed -n 's/^pgha: \[\([0-9.]*\)s\] Ready:.*/\1/p' "$out" | head -1)
  measured "round $n: pgha restore, its primary Ready (s) ${T_PGHA_READY[$n]:=-}"
  # the plan is made once the services answer; the files come after it
  T_PLAN[$n]=$(sed -n 's/^pgha: \[\([0-9.]*\)s\] Restoring: restoring .*/\1/p' "$out" | head -1)
  [ "${T_PGHA_READY[$n]}" != - ] && [ -n "${T_PLAN[$n]}" ] \
    && PH_PGHA[$n]=$(phases "$home/logs/restored-1.log" "$t" "${T_PGHA_READY[$n]}" "${T_PLAN[$n]}")
  # where the restore's time went: pgha up's progress lines carry the seconds since its start
  # (of the lines that repeat with progress, the first and the last)
  awk 'function flush() { if (run != "" && run != first) print run; run = "" }
       /fetching base backup .*MiB|replaying WAL: at/ { if (run == "") { print; first = $0 } run = $0; next }
       { flush(); print } END { flush() }' "$out" >&2
  [ "$(psql -X -Atc "SELECT sum(abalance) FROM pgbench_accounts" "$(PGHA_HOME="$home" PGHA_PORT_BASE= "$pgha" uri --superuser --primary)")" = "$ROWS_PGHA" ] \
    || { echo "the pgha restore does not hold the data written before it" >&2; exit 1; }
  local keep=--purge
  [ "$n" = "$ROUNDS" ] && keep=
  PGHA_HOME="$home" PGHA_PORT_BASE= "$pgha" down $keep >/dev/null
  sync
}

for n in $(seq 1 "$ROUNDS"); do
  if pgha_first "$n"; then restore_pgha "$n"; restore_br "$n"; else restore_br "$n"; restore_pgha "$n"; fi
done
T_BR_RESTORE=$(mean "${T_BR[@]}") T_PGHA_RESTORE=$(mean "${T_PGHA_UP[@]}") T_PGHA_PRIMARY=$(mean "${T_PGHA_READY[@]}")
fi

########## report
echo
REPLAYED_PGHA=- REPLAYED_BR=-
if part restore; then
  # the last round's (the earlier rounds' pgha state is purged); every round replays the same WAL
  REPLAYED_PGHA=$(replayed_mib "$DST_HOME-$ROUNDS/logs/restored-1.log") REPLAYED_BR=$(replayed_mib "$work/plain-restored-$ROUNDS.log")
fi
echo "database: pgbench scale $SCALE, $((DB_BYTES / 1048576)) MiB; WAL replayed on restore (from the servers' logs): pgha $REPLAYED_PGHA MiB, pgBackRest $REPLAYED_BR MiB"
printf '%-44s %10s %12s %10s\n' "what" "seconds" "stored MiB" "pgha is"
printf '%-44s %10s %12s %10s\n' "pg_basebackup -Ft, no compression" "$T_BB_NONE" "-" "$(ratio "$T_BB_NONE" "$T_PGHA_BACKUP")"
printf '%-44s %10s %12s %10s\n' "pg_basebackup -Ft, server-zstd" "$T_BB_ZSTD" "$((BB_ZSTD_BYTES / 1048576))" "$(ratio "$T_BB_ZSTD" "$T_PGHA_BACKUP")"
printf '%-44s %10s %12s %10s\n' "pgBackRest backup (zst, process-max 2)" "$T_BR_BACKUP" "-" "$(ratio "$T_BR_BACKUP" "$T_PGHA_BACKUP")"
printf '%-44s %10s %12s %10s\n' "pgha backup ($BACKUP_NAME)" "$T_PGHA_BACKUP" "$((PGHA_BACKUP_BYTES / 1048576))" "1.00x"
printf '%-44s %10s %12s %10s\n' "pgBackRest restore, end of archive, promoted" "$T_BR_RESTORE" "-" "$(ratio "$T_BR_RESTORE" "$T_PGHA_PRIMARY")"
printf '%-44s %10s %12s %10s\n' "pgha restore, end of archive, primary Ready" "$T_PGHA_PRIMARY" "-" "1.00x"
printf '%-44s %10s %12s %10s\n' "pgBackRest restore, as above" "$T_BR_RESTORE" "-" "$(ratio "$T_BR_RESTORE" "$T_PGHA_RESTORE")"
printf '%-44s %10s %12s %10s\n' "pgha restore, until pgha up returns" "$T_PGHA_RESTORE" "-" "1.00x"
echo "(\"pgha is\" = the peer's time / pgha's time: above 1.00 pgha is faster; restores: the mean of $ROUNDS rounds; \"primary Ready\" is"
echo " like for like with pgBackRest's promoted server, \"until pgha up returns\" adds the monitor and the router)"
if part restore; then
  echo
  echo "where each restore's time went (seconds; from the servers' logs)"
  printf '%-28s %14s %14s %10s %10s %14s\n' "restore" "services+plan" "files" "start" "redo" "promotion"
  for n in $(seq 1 "$ROUNDS"); do
    first=pgBackRest; pgha_first "$n" && first=pgha
    IFS=$'\t' read -r f s r e <<<"${PH_BR[$n]:--	-	-	-}"
    printf '%-28s %14s %14s %10s %10s %14s\n' "pgBackRest, round $n" "-" "$f" "$s" "$r" "$e"
    IFS=$'\t' read -r f s r e <<<"${PH_PGHA[$n]:--	-	-	-}"
    printf '%-28s %14s %14s %10s %10s %14s\n' "pgha, round $n" "${T_PLAN[$n]:--}" "$f" "$s" "$r" "$e"
    echo "  round $n: $first first; pgBackRest ${T_BR[$n]} s, pgha primary Ready ${T_PGHA_READY[$n]} s ($(ratio "${T_BR[$n]}" "${T_PGHA_READY[$n]}"))"
  done
  echo "(files: pgbackrest restore, or pgha's extraction after its plan, until the server logs its start;"
  echo " start: until redo begins; redo: until the last record is replayed; promotion: until promoted and, for pgha, taken over)"
fi
echo
printf '%-44s %16s %10s\n' "archive lag under pgbench tpcb-like" "most waiting" "tps"
printf '%-44s %16s %10s\n' "pgha (goal: at most 2)" "$MAX_PGHA" "$TPS_PGHA"
printf '%-44s %16s %10s\n' "pgBackRest archive-async" "$MAX_BR" "$TPS_BR"
