#!/usr/bin/env bash
# pgbench on a local pgha cluster, in one run: directly against the primary and a standby, through
# PgBouncer (transaction pooling, in front of the primary), through Pgpool-II (load balancing over the
# three instances) and through the pgha router on both of its ports.
#
# Usage: router/bench/pgbench-compare.sh [options]
#   -T SECONDS        per run (10)            -s SCALE            pgbench scale (10)
#   --repeat N        runs per row (2); the targets alternate, reversed on every other repetition
#   --scripts LIST    "select-only tpcb-like"  --clients LIST  "16 64"
#   --modes LIST      "simple extended prepared"
#   --targets LIST    "direct standby pgbouncer pgpool router router-rw" (pgpool only if installed)
#   --strace SECONDS  afterwards, system calls per transaction of the router and of PgBouncer
#                     (strace -c -f over a select-only -M simple run at 16 clients; strace slows
#                     both down, so only the count per transaction means something)
#   --router-b DIR    a second router, built elsewhere (DIR is its quarkus-app directory: another
#                     commit), on the same cluster as target "router-b" (its split port), with the
#                     same JVM options: the two builds run side by side under the same load
#   --jfr FILE        afterwards, a 20 s JFR recording of the router under the same load, saved to
#                     FILE, with its hottest frames printed
#   --perf SECONDS    afterwards, a perf sample of the router's process under the same load (select-only
#                     -M simple, 16 clients): the hottest functions, kernel and JIT-compiled Java alike
#                     (the JIT's symbols come from `jcmd PID Compiler.perfmap`); needs perf
#   --threads SECONDS afterwards, where the CPU of the router and of PgBouncer goes under the same
#                     load: user and system time per transaction, by thread (from /proc/PID/task)
#   --machine SECONDS afterwards, where the whole machine's CPU goes under the same load (select-only
#                     -M simple, 16 clients) through the router's two ports, PgBouncer, directly to
#                     the primary, to one standby and to both standbys at once (8 clients each):
#                     microseconds per transaction by group of processes (pgbench, the router, the
#                     primary's and the standbys' backends...; bench/cpu-by-group.py), with context
#                     switches per transaction and the processes that started during the run
# Needs: what `deploy/local/pgha up` needs, pgbench, pgbouncer, (for its rows) pgpool2 and (for --machine) time (Debian
# packages). Run as root (PostgreSQL, PgBouncer and Pgpool-II then run as the postgres user) or as an
# ordinary user. Everything listens on 127.0.0.1 and is removed at exit.
#
# Per run it prints tps, average latency, the CPU the proxy process used per transaction (the
# router's JVM, PgBouncer, or all Pgpool-II processes; from /proc/PID/stat), the CPU the whole
# machine used per transaction and the machine's idle share during the run (from /proc/stat). A
# summary per row follows: the mean over repetitions and the router's ratios to PgBouncer and
# Pgpool-II. The machine may be shared: a low idle share and a high machine CPU per transaction
# that is not the proxy's say the numbers were taken under load.
#
# The router and PgBouncer get the same pool size (20 server connections per user/database/server,
# PgBouncer's default_pool_size and the router's default). The router's split port sends select-only
# reads to the two standbys; PgBouncer, direct connections and the router's read-write port go to the
# primary; "standby" is pgbench straight at one standby (select-only only), so the cost of the split
# is visible next to it. Debian 12's PgBouncer 1.18 cannot run -M prepared in transaction mode, so
# that mode is compared with direct connections only.
set -euo pipefail
SECONDS_PER_RUN=10 SCALE=10 REPEAT=2
SCRIPTS="select-only tpcb-like" CLIENTS="16 64" MODES="simple extended prepared"
TARGETS="direct standby pgbouncer pgpool router router-rw"
STRACE_SECONDS=0 JFR_FILE="" THREAD_SECONDS=0 ROUTER_B="" PERF_SECONDS=0 MACHINE_SECONDS=0
while [ $# -gt 0 ]; do
  case $1 in
    -T) SECONDS_PER_RUN=$2; shift 2 ;;
    -s) SCALE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --scripts) SCRIPTS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --strace) STRACE_SECONDS=$2; shift 2 ;;
    --jfr) JFR_FILE=$(realpath -m "$2"); shift 2 ;;
    --threads) THREAD_SECONDS=$2; shift 2 ;;
    --perf) PERF_SECONDS=$2; shift 2 ;;
    --machine) MACHINE_SECONDS=$2; shift 2 ;;
    --router-b) ROUTER_B=$(realpath "$2"); TARGETS="$TARGETS router-b"; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
POOL_SIZE=20
root="$(cd "$(dirname "$0")/../.." && pwd)"
BIN=/usr/lib/postgresql/15/bin
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
if [[ " $TARGETS " == *" pgpool "* ]] && ! command -v pgpool >/dev/null && [ ! -x /usr/sbin/pgpool ]; then
  echo "pgpool2 is not installed: leaving out the pgpool rows" >&2
  TARGETS=${TARGETS/pgpool/}
fi
PGPOOL=$(command -v pgpool || echo /usr/sbin/pgpool)

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
# Pgpool-II pads its PID file with NUL bytes, which bash warns about in a command substitution
pgpool_pid() { tr -d '\0' < "$work/pgpool/pgpool.pid"; }
cleanup() {
  [ -f "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  [ -f "$work/pgpool/pgpool.pid" ] && kill "$(pgpool_pid)" 2>/dev/null || true
  [ -f "$work/router-b.pid" ] && kill "$(cat "$work/router-b.pid")" 2>/dev/null || true
  "$pgha" down --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== a three-instance pgha cluster on ports $PGHA_PORT_BASE.. (router on $PGHA_PORT_BASE, read-write port $((PGHA_PORT_BASE + 1)))"
"$pgha" up >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
primary_uri=$("$pgha" uri --primary)
PRIMARY_PORT=$(echo "$primary_uri" | sed -E 's#.*@[^:]+:([0-9]+)/.*#\1#')
ROUTER_PORT=$PGHA_PORT_BASE
ROUTER_RW_PORT=$((PGHA_PORT_BASE + 1))
BOUNCER_PORT=$((PGHA_PORT_BASE + 49))   # inside pgha's range, unused by it
PGPOOL_PORT=$((PGHA_PORT_BASE + 48)) PCP_PORT=$((PGHA_PORT_BASE + 47))
APP_USER=$(echo "$primary_uri" | sed -E 's#postgresql://([^:]+):.*#\1#')
export PGPASSWORD=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.unquote(sys.argv[1].split(":")[2].split("@")[0]))' "$primary_uri")
APP_DB=$(echo "$primary_uri" | sed -E 's#.*/([^/?]+)$#\1#')
"$BIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$APP_USER" "$APP_DB" >/dev/null 2>&1
STANDBY_PORTS=""
for p in $(seq $((PGHA_PORT_BASE + 10)) $((PGHA_PORT_BASE + 19))); do
  [ "$p" = "$PRIMARY_PORT" ] && continue
  r=$(psql -h 127.0.0.1 -p "$p" -U "$APP_USER" -d "$APP_DB" -Atc 'select pg_is_in_recovery()' 2>/dev/null || true)
  [ "$r" = t ] && STANDBY_PORTS="$STANDBY_PORTS $p"
done
STANDBY_PORT=$(echo $STANDBY_PORTS | awk '{print $1}')
echo "== primary on $PRIMARY_PORT, standbys on$STANDBY_PORTS"
ROUTER_PID=$(cat "$PGHA_HOME/run/router.pid")
ROUTER_B_PORT=$((PGHA_PORT_BASE + 2)) ROUTER_B_HTTP=$((PGHA_PORT_BASE + 45))   # unused by pgha
if [ -n "$ROUTER_B" ]; then
  # the environment the launcher gives its router, on ports of its own
  QUARKUS_HTTP_HOST=127.0.0.1 PGHA_HTTP_PORT=$ROUTER_B_HTTP PGHA_ROUTER_PORT=$ROUTER_B_PORT \
    PGHA_ROUTER_RW_PORT=$((PGHA_PORT_BASE + 3)) PGHA_ROUTER_TOPOLOGY_SOURCE=local \
    java ${PGHA_ROUTER_JVM:--Xmx512m} -jar "$ROUTER_B/quarkus-run.jar" >"$work/router-b.log" 2>&1 </dev/null &
  echo $! > "$work/router-b.pid"
  for _ in $(seq 600); do curl -sf -o /dev/null "http://127.0.0.1:$ROUTER_B_HTTP/q/health/ready" && break; sleep 0.2; done
  curl -sf -o /dev/null "http://127.0.0.1:$ROUTER_B_HTTP/q/health/ready" || { tail -5 "$work/router-b.log" >&2; exit 1; }
  echo "== second router ($ROUTER_B) on $ROUTER_B_PORT"
fi

secret=$("$pgha" psql -- -Atc "SELECT rolpassword FROM pg_authid WHERE rolname = '$APP_USER'")
echo "== PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') on $BOUNCER_PORT (transaction pooling, pool size $POOL_SIZE)"
printf '"%s" "%s"\n' "$APP_USER" "$secret" > "$work/userlist.txt"
cat > "$work/pgbouncer.ini" <<INI
[databases]
$APP_DB = host=127.0.0.1 port=$PRIMARY_PORT dbname=$APP_DB
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
for _ in $(seq 50); do [ -s "$work/pgbouncer.pid" ] && break; sleep 0.1; done

max_clients=$(echo $CLIENTS | tr ' ' '\n' | sort -n | tail -1)
if [[ " $TARGETS " == *" pgpool "* ]]; then
  # Pgpool-II 4.3 as its packaged defaults would have it for a streaming-replication cluster: one
  # child per client, load balancing per session over the three instances with equal weights, the
  # client's SCRAM password from pool_passwd to log in to each backend. Health checks and failover
  # are off: pgha does that.
  mkdir -p "$work/pgpool/log" "$work/pgpool/sock"
  {
    cat <<EOF
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = $PGPOOL_PORT
socket_dir = '$work/pgpool/sock'
pcp_listen_addresses = '127.0.0.1'
pcp_port = $PCP_PORT
pcp_socket_dir = '$work/pgpool/sock'
wd_ipc_socket_dir = '$work/pgpool/sock'
pid_file_name = '$work/pgpool/pgpool.pid'
logdir = '$work/pgpool/log'
log_destination = 'stderr'
enable_pool_hba = on
pool_passwd = '$work/pgpool/pool_passwd'
num_init_children = $((max_clients + 8))
max_pool = 1
child_life_time = 0
connection_life_time = 0
client_idle_limit = 0
connection_cache = on
load_balance_mode = on
statement_level_load_balance = off
disable_load_balance_on_write = 'transaction'
sr_check_period = 10
sr_check_user = '$APP_USER'
sr_check_password = ''
sr_check_database = '$APP_DB'
health_check_period = 0
failover_on_backend_error = off
use_watchdog = off
memory_cache_enabled = off
EOF
    i=0
    for p in $PRIMARY_PORT $STANDBY_PORTS; do
      printf "backend_hostname%d = '127.0.0.1'\nbackend_port%d = %d\nbackend_weight%d = 1\nbackend_flag%d = 'DISALLOW_TO_FAILOVER'\n" $i $i "$p" $i $i
      i=$((i + 1))
    done
  } > "$work/pgpool/pgpool.conf"
  echo "$APP_USER:TEXT$PGPASSWORD" > "$work/pgpool/pool_passwd"
  echo "host all all 127.0.0.1/32 scram-sha-256" > "$work/pgpool/pool_hba.conf"
  : > "$work/pgpool/pcp.conf"
  chmod 600 "$work/pgpool/pool_passwd" "$work/pgpool/pcp.conf"
  [ "$(id -u)" = 0 ] && chown -R postgres "$work/pgpool"
  as_pg "$PGPOOL" -n -f "$work/pgpool/pgpool.conf" -F "$work/pgpool/pcp.conf" -a "$work/pgpool/pool_hba.conf" \
    >"$work/pgpool/pgpool.log" 2>&1 &
  for _ in $(seq 150); do
    psql -h 127.0.0.1 -p "$PGPOOL_PORT" -U "$APP_USER" -d "$APP_DB" -Atc 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "== Pgpool-II $("$PGPOOL" --version 2>&1 | awk '{print $3}') on $PGPOOL_PORT (load balancing over 3 instances, $((max_clients + 8)) children)"
fi

port_of() {
  case $1 in
    direct) echo "$PRIMARY_PORT" ;; standby) echo "$STANDBY_PORT" ;; pgbouncer) echo "$BOUNCER_PORT" ;;
    pgpool) echo "$PGPOOL_PORT" ;; router) echo "$ROUTER_PORT" ;; router-rw) echo "$ROUTER_RW_PORT" ;;
    router-b) echo "$ROUTER_B_PORT" ;;
  esac
}
# The proxy's processes: the router's JVM, PgBouncer, Pgpool-II's parent and children.
pids_of() {
  case $1 in
    router|router-rw) echo "$ROUTER_PID" ;;
    router-b) cat "$work/router-b.pid" ;;
    pgbouncer) cat "$work/pgbouncer.pid" ;;
    pgpool) local p; p=$(pgpool_pid); echo "$p $(pgrep -P "$p" | tr '\n' ' ')" ;;
  esac
}
cpu_ticks() { # utime+stime of the given PIDs, in clock ticks
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
  done
  echo $t
}
machine_ticks() { awk '/^cpu /{ print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat; } # total idle(+iowait)
TICK_US=$((1000000 / $(getconf CLK_TCK)))

applies() { # target script mode -> whether the row exists
  case $1 in
    standby) [ "$2" = select-only ] ;;
    pgbouncer) [ "$3" != prepared ] ;;
    *) return 0 ;;
  esac
}

rows="$work/rows.tsv"
run() { # target clients mode script seconds -> appends one row, prints it
  local target=$1 clients=$2 mode=$3 script=$4 secs=$5 flag="" out pids c0 c1 m0 m1 tx tps lat
  [ "$script" = select-only ] && flag="-S"
  pids=$(pids_of "$target")
  c0=$(cpu_ticks $pids); m0=$(machine_ticks)
  out=$("$BIN/pgbench" -n -h 127.0.0.1 -p "$(port_of "$target")" -U "$APP_USER" -c "$clients" -j 2 -M "$mode" $flag -T "$secs" "$APP_DB" 2>&1) || true
  c1=$(cpu_ticks $pids); m1=$(machine_ticks)
  tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p'); tx=${tx:-0}
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p'); tps=${tps:-0}
  lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'); lat=${lat:-0}
  [ "$tx" = 0 ] && echo "$target $script $mode $clients failed: $(echo "$out" | grep -m1 -iE 'error|fatal|abort')" >&2
  awk -v t="$target" -v s="$script" -v m="$mode" -v c="$clients" -v tps="$tps" -v lat="$lat" -v tx="$tx" \
      -v pc="$((c1 - c0))" -v pids="$pids" -v m0="$m0" -v m1="$m1" -v us="$TICK_US" 'BEGIN {
    split(m0, a, " "); split(m1, b, " "); total = b[1] - a[1]; idle = b[2] - a[2]
    proxy = (pids == "" || tx == 0) ? "-" : sprintf("%.1f", pc * us / tx)
    machine = tx == 0 ? "-" : sprintf("%.1f", (total - idle) * us / tx)
    idlepct = total > 0 ? 100 * idle / total : 0
    printf "%s\t%s\t%s\t%s\t%.0f\t%.3f\t%s\t%s\t%.0f\n", s, m, c, t, tps, lat, proxy, machine, idlepct
  }' | tee -a "$rows" | awk -F'\t' '{ printf "%-11s %-9s %4s  %-10s %9s tps %8s ms  proxy %6s us/tx  machine %6s us/tx  idle %3s%%\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
}

# every script once per target, long enough for the router's JIT to compile the relay: otherwise
# its first measured run also pays for compiling (seen: 70 us/tx in the first run, 38 in the second).
# The routers get every mode, since each protocol runs code of its own; the others need no warming.
echo "== warm-up"
for t in $TARGETS; do
  for script in $SCRIPTS; do
    for mode in $MODES; do
      case $t in router*) ;; *) [ "$mode" = simple ] || continue ;; esac
      applies "$t" "$script" "$mode" && run "$t" 16 "$mode" "$script" 5 >/dev/null
    done
  done
done
: > "$rows"
echo "== runs (${SECONDS_PER_RUN}s each, $REPEAT per row, targets alternating)"
for script in $SCRIPTS; do
  for clients in $CLIENTS; do
    for mode in $MODES; do
      for rep in $(seq "$REPEAT"); do
        order=$TARGETS
        [ $((rep % 2)) = 0 ] && order=$(echo $TARGETS | tr ' ' '\n' | tac | tr '\n' ' ')
        for t in $order; do applies "$t" "$script" "$mode" && run "$t" "$clients" "$mode" "$script" "$SECONDS_PER_RUN"; done
      done
    done
  done
done

echo
echo "== mean per row (tps; proxy and machine CPU in us per transaction); r = router's split port, rw = its read-write port"
awk -F'\t' -v targets="$TARGETS" '
  { k = $1 "\t" $2 "\t" $3; if (!(k in seen)) { seen[k] = 1; keys[++n] = k }
    tps[k, $4] += $5; cnt[k, $4]++; pc[k, $4] += $7; mc[k, $4] += $8 }
  function mean(k, t) { return cnt[k, t] ? tps[k, t] / cnt[k, t] : 0 }
  function ratio(a, b) { return b > 0 && a > 0 ? sprintf("%.2f", a / b) : "-" }
  function cpu(arr, k, t) { return cnt[k, t] ? sprintf("%.1f", arr[k, t] / cnt[k, t]) : "-" }
  END {
    nt = split(targets, T, " ")
    printf "%-11s %-9s %4s", "script", "mode", "cl"; for (i = 1; i <= nt; i++) printf " %10s", T[i]
    printf " | %6s %6s %6s %6s %6s | %s\n", "r/pgb", "rw/pgb", "r/pgp", "r/dir", "rw/dir", "us/tx proxy (machine): router, router-rw, pgbouncer, pgpool, router-b"
    for (j = 1; j <= n; j++) {
      k = keys[j]; split(k, f, "\t"); printf "%-11s %-9s %4s", f[1], f[2], f[3]
      for (i = 1; i <= nt; i++) printf " %10s", cnt[k, T[i]] ? sprintf("%.0f", mean(k, T[i])) : "-"
      printf " | %6s %6s %6s %6s %6s |", ratio(mean(k, "router"), mean(k, "pgbouncer")), ratio(mean(k, "router-rw"), mean(k, "pgbouncer")),
        ratio(mean(k, "router"), mean(k, "pgpool")), ratio(mean(k, "router"), mean(k, "direct")), ratio(mean(k, "router-rw"), mean(k, "direct"))
      split("router router-rw pgbouncer pgpool router-b", P, " ")
      for (i = 1; i <= 5; i++) printf " %s (%s)", cpu(pc, k, P[i]), cpu(mc, k, P[i])
      printf "\n"
    }
  }' "$rows"

if [ "$STRACE_SECONDS" != 0 ]; then
  echo
  echo "== system calls per transaction (strace -c -f, select-only -M simple, 16 clients, ${STRACE_SECONDS}s)"
  for t in router router-rw pgbouncer; do
    pid=$(pids_of "$t" | awk '{print $1}')
    strace -c -f -p "$pid" -o "$work/strace-$t.txt" & spid=$!
    sleep 1
    out=$("$BIN/pgbench" -n -h 127.0.0.1 -p "$(port_of "$t")" -U "$APP_USER" -c 16 -j 2 -M simple -S -T "$STRACE_SECONDS" "$APP_DB" 2>&1) || true
    kill -INT "$spid"; wait "$spid" 2>/dev/null || true
    tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    awk -v t="$t" -v tx="${tx:-0}" '$NF == "total" { calls = $4 } $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { per[$NF] = $4 }
      END { printf "%-10s %d transactions, %.2f system calls per transaction:", t, tx, tx ? calls / tx : 0
            for (s in per) if (tx && per[s] / tx >= 0.05) printf " %s %.2f", s, per[s] / tx; printf "\n" }' "$work/strace-$t.txt"
  done
fi

# utime and stime in clock ticks of every thread of a process, one "name<TAB>utime<TAB>stime" line each;
# thread names lose their numbers (vert.x-eventloop-thread-0 and -1 count together) to group them.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    [ -r "$t/stat" ] || continue
    awk -v name="$(tr -d '\n' < "$t/comm" | sed -E 's/[-#0-9 ]+$//')" '{ sub(/^.*\) /, ""); printf "%s\t%d\t%d\n", name, $12, $13 }' "$t/stat"
  done
}

if [ "$THREAD_SECONDS" != 0 ]; then
  echo
  echo "== CPU by thread, microseconds per transaction (select-only -M simple, 16 clients, ${THREAD_SECONDS}s): user + system"
  for t in router pgbouncer $([ -n "$ROUTER_B" ] && echo router-b); do
    pid=$(pids_of "$t" | awk '{print $1}')
    thread_ticks "$pid" > "$work/threads0"
    out=$("$BIN/pgbench" -n -h 127.0.0.1 -p "$(port_of "$t")" -U "$APP_USER" -c 16 -j 2 -M simple -S -T "$THREAD_SECONDS" "$APP_DB" 2>&1) || true
    thread_ticks "$pid" > "$work/threads1"
    tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    awk -F'\t' -v t="$t" -v tx="${tx:-0}" -v us="$TICK_US" '
      FNR == NR { u0[$1] += $2; s0[$1] += $3; next }
      { u1[$1] += $2; s1[$1] += $3 }
      END {
        if (tx == 0) { print t ": no transactions"; exit }
        for (n in u1) { du = u1[n] - u0[n]; ds = s1[n] - s0[n]; U += du; S += ds
          if (du + ds > 0) line[n] = sprintf("%.3f\t    %-28s %7.1f user %7.1f system", (du + ds) * us / tx, n, du * us / tx, ds * us / tx) }
        printf "%-10s %d transactions: %.1f user + %.1f system = %.1f us/tx\n", t, tx, U * us / tx, S * us / tx, (U + S) * us / tx
        for (n in line) print line[n]
      }' "$work/threads0" "$work/threads1" | { read -r head; echo "$head"; sort -rn | cut -f2- | head -12; }
  done
fi

if [ "$MACHINE_SECONDS" != 0 ]; then
  echo
  echo "== the whole machine's CPU by group of processes, microseconds per transaction (select-only -M simple, 16 clients, ${MACHINE_SECONDS}s)"
  # "standbys" is pgbench straight at both standbys at once, 8 clients each: what spreading the reads
  # over two servers on the same cores costs without the router
  for t in router router-rw pgbouncer direct standby standbys; do
    ports=$(port_of "$t") clients=16
    [ "$t" = standbys ] && ports=$STANDBY_PORTS clients=8
    "$root/router/bench/cpu-by-group.py" snapshot "$ROUTER_PID" "$PRIMARY_PORT" > "$work/groups0"
    i=0 waiting=""
    for port in $ports; do
      /usr/bin/time -f '%U %S' -o "$work/pgbench-cpu.$i" "$BIN/pgbench" -n -h 127.0.0.1 -p "$port" -U "$APP_USER" \
        -c "$clients" -j 2 -M simple -S -T "$MACHINE_SECONDS" "$APP_DB" > "$work/pgbench-out.$i" 2>&1 &
      waiting="$waiting $!" i=$((i + 1))
    done
    wait $waiting || true
    "$root/router/bench/cpu-by-group.py" snapshot "$ROUTER_PID" "$PRIMARY_PORT" > "$work/groups1"
    tx=$(cat "$work"/pgbench-out.* | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
    echo "$t: $tx transactions, $((tx / MACHINE_SECONDS)) tps"
    "$root/router/bench/cpu-by-group.py" report "$work/groups0" "$work/groups1" "$tx" \
      "$(cat "$work"/pgbench-cpu.* | awk '{ s += $1 + $2 } END { print s + 0 }')"
    rm -f "$work"/pgbench-out.* "$work"/pgbench-cpu.*
  done
fi

if [ "$PERF_SECONDS" != 0 ]; then
  echo
  echo "== perf sample of the router (select-only -M simple, 16 clients, ${PERF_SECONDS}s): share of samples by function"
  perf record -q -F 997 -p "$ROUTER_PID" -o "$work/perf.data" -- sleep "$PERF_SECONDS" 2>/dev/null & ppid=$!
  "$BIN/pgbench" -n -h 127.0.0.1 -p "$ROUTER_PORT" -U "$APP_USER" -c 16 -j 2 -M simple -S -T "$PERF_SECONDS" "$APP_DB" >/dev/null 2>&1 || true
  wait "$ppid" || true
  # after the recording, so that the map names the code that ran during it
  jcmd "$ROUTER_PID" Compiler.perfmap >/dev/null
  # awk reads to the end: head would stop first, and perf report's SIGPIPE then fails the script (pipefail)
  perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | awk 'NR <= 40'
  rm -f "/tmp/perf-$ROUTER_PID.map"
fi

if [ -n "$JFR_FILE" ]; then
  echo
  echo "== JFR recording of the router (select-only -M simple, 16 clients, 20 s) -> $JFR_FILE"
  jcmd "$ROUTER_PID" JFR.start name=bench settings=profile filename="$work/router.jfr" >/dev/null
  "$BIN/pgbench" -n -h 127.0.0.1 -p "$ROUTER_PORT" -U "$APP_USER" -c 16 -j 2 -M simple -S -T 20 "$APP_DB" >/dev/null 2>&1 || true
  jcmd "$ROUTER_PID" JFR.stop name=bench >/dev/null
  cp "$work/router.jfr" "$JFR_FILE"
  echo "hottest top frames (share of execution samples):"
  jfr print --events jdk.ExecutionSample "$JFR_FILE" | awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); top[$0]++; n++ }
    END { for (f in top) printf "%6.1f%%  %s\n", 100 * top[f] / n, f }' | sort -rn | head -20
  echo "allocation by class (top 10, bytes sampled):"
  jfr print --events jdk.ObjectAllocationSample "$JFR_FILE" | awk '/objectClass = / { c = $3 } /weight = / { w = $3; u = $4; m = (u ~ /kB/ ? 1e3 : u ~ /MB/ ? 1e6 : u ~ /GB/ ? 1e9 : 1); a[c] += w * m }
    END { for (c in a) printf "%12.0f  %s\n", a[c], c }' | sort -rn | head -10
fi
echo
echo "machine: $(nproc) CPUs; ${SECONDS_PER_RUN}s per run; three PostgreSQL instances, PgBouncer, Pgpool-II, the router, the other pgha services and pgbench share the machine."
