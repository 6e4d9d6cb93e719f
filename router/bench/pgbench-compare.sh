#!/usr/bin/env bash
# pgbench on a local pgha cluster, in one run: directly against the primary, through PgBouncer
# (transaction pooling, in front of the primary) and through the pgha router.
#
# Usage: router/bench/pgbench-compare.sh [seconds-per-run] [scale]
# Needs: what `deploy/local/pgha up` needs, pgbench, and pgbouncer (Debian package). Run as root
# (PostgreSQL and PgBouncer then run as the postgres user) or as an ordinary user. Everything
# listens on 127.0.0.1 and is removed at exit.
#
# The router and PgBouncer get the same pool size (20 server connections per user/database/server,
# PgBouncer's default_pool_size and the router's default). The router sends select-only reads to
# the two standbys, PgBouncer and direct connections go to the primary. Debian 12's PgBouncer 1.18
# cannot run -M prepared in transaction mode, so that mode is compared with direct connections only.
set -euo pipefail
SECONDS_PER_RUN="${1:-10}"
SCALE="${2:-10}"
POOL_SIZE=20
root="$(cd "$(dirname "$0")/../.." && pwd)"
BIN=/usr/lib/postgresql/15/bin
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
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

work="$(mktemp -d /tmp/pgha-bench.XXXXXX)"; chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
export PGHA_HOME="$work/pgha" PGHA_PORT_BASE="$(free_base)"
pgha="$root/deploy/local/pgha"
cleanup() {
  [ -f "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  "$pgha" down --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a three-instance pgha cluster on ports $PGHA_PORT_BASE.. (router on $PGHA_PORT_BASE)"
"$pgha" up >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
primary_uri=$("$pgha" uri --primary)
PGPORT_=$(echo "$primary_uri" | sed -E 's#.*@[^:]+:([0-9]+)/.*#\1#')
ROUTER_PORT=$PGHA_PORT_BASE
BOUNCER_PORT=$((PGHA_PORT_BASE + 49))   # inside pgha's range, unused by it
APP_USER=$(echo "$primary_uri" | sed -E 's#postgresql://([^:]+):.*#\1#')
export PGPASSWORD=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.unquote(sys.argv[1].split(":")[2].split("@")[0]))' "$primary_uri")
APP_DB=$(echo "$primary_uri" | sed -E 's#.*/([^/?]+)$#\1#')
"$BIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PGPORT_" -U "$APP_USER" "$APP_DB" >/dev/null 2>&1
secret=$("$pgha" psql -- -Atc "SELECT rolpassword FROM pg_authid WHERE rolname = '$APP_USER'")
echo "== PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') on $BOUNCER_PORT (transaction pooling, pool size $POOL_SIZE)"
printf '"%s" "%s"\n' "$APP_USER" "$secret" > "$work/userlist.txt"
cat > "$work/pgbouncer.ini" <<INI
[databases]
$APP_DB = host=127.0.0.1 port=$PGPORT_ dbname=$APP_DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 500
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
chmod 644 "$work/pgbouncer.ini" "$work/userlist.txt"
as_pg pgbouncer -d "$work/pgbouncer.ini"

run() { # port clients mode script-flag -> "tps latency_ms"
  local out
  out=$("$BIN/pgbench" -n -h 127.0.0.1 -p "$1" -U "$APP_USER" -c "$2" -j 2 -M "$3" $4 -T "$SECONDS_PER_RUN" "$APP_DB" 2>&1) || { echo "0 0"; echo "$out" >&2; return; }
  echo "$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p') $(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')"
}
# warm every path once
for p in "$PGPORT_" "$BOUNCER_PORT" "$ROUTER_PORT"; do run "$p" 4 simple -S >/dev/null; done

printf '\n%-11s %-9s %7s | %10s %8s | %10s %8s | %10s %8s | %6s %6s\n' script mode clients direct-tps lat-ms pgbouncer lat-ms router lat-ms r/dir r/pgb
for script in select-only tpcb-like; do
  flag=""; [ "$script" = select-only ] && flag="-S"
  for clients in 16 64; do
    for mode in simple extended prepared; do
      read -r d_tps d_lat < <(run "$PGPORT_" "$clients" "$mode" "$flag")
      if [ "$mode" = prepared ]; then b_tps="-"; b_lat="-"; else read -r b_tps b_lat < <(run "$BOUNCER_PORT" "$clients" "$mode" "$flag"); fi
      read -r r_tps r_lat < <(run "$ROUTER_PORT" "$clients" "$mode" "$flag")
      r_dir=$(awk -v a="$r_tps" -v b="$d_tps" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')
      r_pgb=$(awk -v a="$r_tps" -v b="$b_tps" 'BEGIN{ if (b+0>0) printf "%.2f", a/b; else print "-" }')
      printf '%-11s %-9s %7s | %10s %8s | %10s %8s | %10s %8s | %6s %6s\n' "$script" "$mode" "$clients" "$d_tps" "$d_lat" "$b_tps" "$b_lat" "$r_tps" "$r_lat" "$r_dir" "$r_pgb"
    done
  done
done
echo
echo "machine: $(nproc) CPUs; ${SECONDS_PER_RUN}s per run; three PostgreSQL instances, PgBouncer, the router, the other pgha services and pgbench share the machine."
