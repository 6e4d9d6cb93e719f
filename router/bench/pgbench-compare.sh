#!/usr/bin/env bash
# pgbench directly, through PgBouncer (transaction pooling) and through the pgha router, in one run.
#
# Usage: router/bench/pgbench-compare.sh [seconds-per-run] [scale]
# Needs: PostgreSQL 15 binaries, pgbench, pgbouncer (Debian package), and the router built
# (./mvnw -o -q -pl router install). Run as root (PostgreSQL and PgBouncer run as the postgres
# user) or as an ordinary user. Everything listens on 127.0.0.1 on free ports and is removed at exit.
#
# The router and PgBouncer get the same pool size (20 server connections per user/database,
# PgBouncer's default_pool_size and the router's default) and one server: this measures what the
# proxy costs, not read scaling. Debian 12's PgBouncer 1.18 cannot run -M prepared in
# transaction mode, so that mode is compared with direct connections only.
set -euo pipefail
SECONDS_PER_RUN="${1:-10}"
SCALE="${2:-10}"
POOL_SIZE=20
here="$(cd "$(dirname "$0")/.." && pwd)"
BIN=/usr/lib/postgresql/15/bin
jar="$here/target/quarkus-app/quarkus-run.jar"
[ -f "$jar" ] || { echo "build the router first: ./mvnw -o -q -pl router install" >&2; exit 1; }
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket,random
while True:
    p=random.randint(10000,32000); s=socket.socket()
    try: s.bind(("127.0.0.1",p)); s.close(); print(p); break
    except OSError: pass'; }

work="$(mktemp -d /tmp/pgha-bench.XXXXXX)"; chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
PGPORT_=$(free_port); BOUNCER_PORT=$(free_port); ROUTER_PORT=$(free_port); ROUTER_RW_PORT=$(free_port); HTTP_PORT=$(free_port)
router_pid=""
cleanup() {
  [ -n "$router_pid" ] && kill "$router_pid" 2>/dev/null || true
  [ -f "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  as_pg "$BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== setting up PostgreSQL 15 on 127.0.0.1:$PGPORT_ (scale $SCALE)"
echo "postgres-pw" > "$work/pw"; chmod 644 "$work/pw"
as_pg "$BIN/initdb" -D "$work/data" -U postgres --pwfile="$work/pw" --auth=scram-sha-256 >/dev/null
as_pg "$BIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -o "-c port=$PGPORT_ -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c max_connections=200 -c fsync=off -c synchronous_commit=off -c shared_buffers=256MB" start >/dev/null
export PGPASSWORD=postgres-pw
psql_su() { "$BIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT_" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
psql_su -c "CREATE ROLE bench LOGIN PASSWORD 'bench-pw'; CREATE ROLE pgha_router_auth LOGIN PASSWORD 'auth-pw'; GRANT ALL ON SCHEMA public TO bench;"
psql_su <<'SQL'
CREATE SCHEMA IF NOT EXISTS pgha;
CREATE OR REPLACE FUNCTION pgha.auth_lookup(i_username text, OUT passwd text)
  RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
$$ SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = i_username AND rolcanlogin
     AND (rolvaliduntil IS NULL OR rolvaliduntil > now()) $$;
REVOKE ALL ON FUNCTION pgha.auth_lookup(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA pgha TO pgha_router_auth;
GRANT EXECUTE ON FUNCTION pgha.auth_lookup(text) TO pgha_router_auth;
SQL
PGPASSWORD=bench-pw "$BIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PGPORT_" -U bench postgres >/dev/null 2>&1
secret=$(psql_su -At -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")

echo "== PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') on $BOUNCER_PORT (transaction pooling, pool size $POOL_SIZE)"
printf '"bench" "%s"\n' "$secret" > "$work/userlist.txt"
cat > "$work/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$PGPORT_ dbname=postgres
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

echo "== pgha router on $ROUTER_PORT (transaction pooling, pool size $POOL_SIZE)"
PGHA_ROUTER_PORT=$ROUTER_PORT PGHA_ROUTER_RW_PORT=$ROUTER_RW_PORT PGHA_HTTP_PORT=$HTTP_PORT \
  PGHA_ROUTER_PRIMARY=127.0.0.1:$PGPORT_ PGHA_ROUTER_AUTH_PASSWORD=auth-pw \
  java -Dpgha.router.pool-size=$POOL_SIZE -jar "$jar" >"$work/router.log" 2>&1 &
router_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/q/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$HTTP_PORT/q/health/ready" >/dev/null || { echo "router did not become ready"; cat "$work/router.log"; exit 1; }

run() { # port clients mode script-flag -> "tps latency_ms"
  local out
  out=$(PGPASSWORD=bench-pw "$BIN/pgbench" -n -h 127.0.0.1 -p "$1" -U bench -c "$2" -j 2 -M "$3" $4 -T "$SECONDS_PER_RUN" postgres 2>&1) || { echo "0 0"; echo "$out" >&2; return; }
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
echo "machine: $(nproc) CPUs; ${SECONDS_PER_RUN}s per run; PostgreSQL, PgBouncer, the router and pgbench share the machine."
