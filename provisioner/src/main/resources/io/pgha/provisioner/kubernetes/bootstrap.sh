#!/bin/bash
# pgha instance bootstrap: runs in the stock postgres container of every instance pod.
#
#   bootstrap.sh run     prepare the data directory, then exec postgres (the container's command)
#   bootstrap.sh ready   readiness probe: the server answers; a standby also streams
#   bootstrap.sh live    liveness probe: the server answers; a primary that cannot prove API access
#                        (an authenticated read of its own pod) for PGHA_ISOLATION_SECONDS stops its
#                        server at once and fails it; reloads the configuration when it changed; on a
#                        primary, creates the router's lookup function when it is missing
#
# What `run` does with the data directory:
#   empty, this instance is the designated first primary and no primary answers -> initdb
#   empty otherwise                                   -> pg_basebackup from the current primary
#   a standby's data                                  -> start as a standby
#   a primary's data, labelled primary as the API server confirms it now (whatever the labels
#   file says), no other primary answers               -> start as the primary
#   a primary's data otherwise (a former primary)     -> pg_rewind from the current primary, or a
#                                                        fresh clone when rewind fails; start as a standby
# A primary's data directory is never started while another primary answers, and never started
# unless the API server confirms now that this instance is labelled primary (the downward-API file
# may be stale on a node cut off from the control plane): the script waits instead.
#
# Talking to the API server: the stock postgres image has no curl, but it has openssl (PostgreSQL's
# Debian packages depend on ssl-cert, which depends on openssl). `openssl s_client` verifies the API
# server's certificate against the service-account CA before the token is sent; the request is
# HTTP/1.0 so that the answer is never chunked; the token goes through a pipe, never on a command
# line. Without openssl no API access can be proven, and a primary counts as cut off (the safe side).
#
# Environment (the pod sets it; tests set it too): PGDATA, PGHA_INSTANCE, PGHA_PORT,
# PGHA_PRIMARY_HOST (the -rw service), PGHA_PRIMARY_PORT,
# PGHA_CONFIG_DIR (postgresql.conf, pg_hba.conf, first-primary), PGHA_SECRETS_DIR (passwords),
# PGHA_LABELS_FILE (downward API labels), PGHA_RUN_DIR (socket, passfile), PGHA_TLS_DIR (the
# instance's certificate Secret: tls.crt, tls.key, ca.crt), PGHA_SERVER_TLS_DIR (where the server
# reads its copy, as postgresql.conf says), PGHA_LOCALE,
# PGHA_ISOLATION_SECONDS, PGHA_API_TIMEOUT_SECONDS, PGHA_STOP_SECONDS (the provisioner sets these
# three from PrimaryIsolation), PGHA_WAIT_SECONDS, PGHA_LISTEN, PGHA_PG_BIN; the API server:
# PGHA_API_HOST/PGHA_API_PORT (default KUBERNETES_SERVICE_HOST/PORT), PGHA_API_TOKEN_FILE,
# PGHA_API_CA_FILE, PGHA_NAMESPACE (default: the pod's service-account files).
set -euo pipefail

: "${PGDATA:?PGDATA is not set}"
: "${PGHA_INSTANCE:?PGHA_INSTANCE is not set}"
PORT=${PGHA_PORT:-5432}
PRIMARY_HOST=${PGHA_PRIMARY_HOST:?PGHA_PRIMARY_HOST is not set}
PRIMARY_PORT=${PGHA_PRIMARY_PORT:-$PORT}
CONFIG_DIR=${PGHA_CONFIG_DIR:-/etc/pgha/config}
SECRETS_DIR=${PGHA_SECRETS_DIR:-/etc/pgha/secrets}
LABELS_FILE=${PGHA_LABELS_FILE:-/etc/pgha/podinfo/labels}
RUN_DIR=${PGHA_RUN_DIR:-/var/run/postgresql}
TLS_DIR=${PGHA_TLS_DIR:-/etc/pgha/tls}
SERVER_TLS_DIR=${PGHA_SERVER_TLS_DIR:-$RUN_DIR/tls}
LOCALE=${PGHA_LOCALE:-C.UTF-8}
LISTEN=${PGHA_LISTEN:-*}
ISOLATION_SECONDS=${PGHA_ISOLATION_SECONDS:-20}
API_TIMEOUT=${PGHA_API_TIMEOUT_SECONDS:-3}
STOP_SECONDS=${PGHA_STOP_SECONDS:-5}
SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount
API_HOST=${PGHA_API_HOST:-${KUBERNETES_SERVICE_HOST:-}}
API_PORT=${PGHA_API_PORT:-${KUBERNETES_SERVICE_PORT:-443}}
API_TOKEN_FILE=${PGHA_API_TOKEN_FILE:-$SA_DIR/token}
API_CA_FILE=${PGHA_API_CA_FILE:-$SA_DIR/ca.crt}
WAIT_SECONDS=${PGHA_WAIT_SECONDS:-600}
PG_BIN=${PGHA_PG_BIN:-$(dirname "$(command -v postgres)")}
SUPERUSER=postgres
REPLICATION_USER=streaming_replica
SLOT=pgha_$(echo "$PGHA_INSTANCE" | tr -- '-.' '__')
PASSFILE=$RUN_DIR/pgpass
# written by the provisioner from the router's Java contract (RouterAuth): this script only runs it
ROUTER_AUTH_SQL=$CONFIG_DIR/router-auth.sql
export PGPASSFILE=$PASSFILE PGCONNECT_TIMEOUT=3
# Every TCP connection to another instance: TLS, the cluster's CA, and a certificate naming the
# host we asked for (the -rw Service's name is in every instance's certificate).
TLS_CONNINFO="sslmode=verify-full sslrootcert=$SERVER_TLS_DIR/ca.crt"
# A standby's primary_conninfo: the monitor re-points it at the primary's pod IP, which no
# certificate names (libpq would check the name against the IP), so the streaming connection
# checks that the server holds a certificate of this cluster's CA.
STREAM_TLS_CONNINFO="sslmode=verify-ca sslrootcert=$SERVER_TLS_DIR/ca.crt"

log() { echo "pgha-bootstrap[$PGHA_INSTANCE]: $*" >&2; }
die() { log "$*"; exit 1; }

secret() { tr -d '\n' < "$SECRETS_DIR/$1"; }

# The passwords go to a private passfile; no password is ever on a command line or in a log.
write_passfile() {
  mkdir -p "$RUN_DIR"
  umask 077
  {
    echo "*:*:*:$SUPERUSER:$(secret superuser-password)"
    echo "*:*:*:$REPLICATION_USER:$(secret replication-password)"
  } > "$PASSFILE"
  chmod 600 "$PASSFILE"
}

# The Secret's certificate and key, copied to where postgresql.conf points: PostgreSQL refuses a key
# file that others may read or that another user owns, and kubelet's files belong to root. Each
# file is replaced whole (rename), so a reload never reads half a key.
install_tls() {
  local f
  for f in tls.crt tls.key ca.crt; do
    [ -s "$TLS_DIR/$f" ] || die "no $f in $TLS_DIR: the instance's certificate Secret is missing or incomplete"
  done
  mkdir -p "$SERVER_TLS_DIR"
  (
    umask 077
    cp "$TLS_DIR/tls.crt" "$SERVER_TLS_DIR/server.crt.new" && mv "$SERVER_TLS_DIR/server.crt.new" "$SERVER_TLS_DIR/server.crt"
    cp "$TLS_DIR/tls.key" "$SERVER_TLS_DIR/server.key.new" && mv "$SERVER_TLS_DIR/server.key.new" "$SERVER_TLS_DIR/server.key"
    cp "$TLS_DIR/ca.crt" "$SERVER_TLS_DIR/ca.crt.new" && mv "$SERVER_TLS_DIR/ca.crt.new" "$SERVER_TLS_DIR/ca.crt"
  )
}

# The value of our pgha.io/role label, as the operator last set it.
role() {
  [ -f "$LABELS_FILE" ] || { echo ""; return; }
  sed -n 's/^pgha\.io\/role="\(.*\)"$/\1/p' "$LABELS_FILE"
}

# Our own pod as the API server has it now (JSON on stdout), read with the pod's service-account
# token; fails, saying why on stderr, unless the server proved its identity and answered 200.
own_pod() {
  [ -n "$API_HOST" ] || { log "no API server address (KUBERNETES_SERVICE_HOST)"; return 1; }
  command -v openssl >/dev/null || { log "openssl is not in this image: API access cannot be proven"; return 1; }
  local namespace token response status
  namespace=${PGHA_NAMESPACE:-$(cat "$SA_DIR/namespace" 2>/dev/null)} || true
  [ -n "$namespace" ] || { log "namespace unknown: no $SA_DIR/namespace"; return 1; }
  token=$(cat "$API_TOKEN_FILE" 2>/dev/null) || { log "no service-account token at $API_TOKEN_FILE"; return 1; }
  # the certificate must name the address we asked for; an IPv6 address is bracketed in -connect
  local verify=(-verify_hostname "$API_HOST") address=$API_HOST:$API_PORT
  [[ $API_HOST =~ ^[0-9.]+$ ]] && verify=(-verify_ip "$API_HOST")
  [[ $API_HOST == *:* ]] && verify=(-verify_ip "$API_HOST") address="[$API_HOST]:$API_PORT"
  response=$(printf 'GET /api/v1/namespaces/%s/pods/%s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: application/json\r\n\r\n' \
      "$namespace" "$PGHA_INSTANCE" "$API_HOST" "$token" \
    | timeout "$API_TIMEOUT" openssl s_client -quiet -connect "$address" -CAfile "$API_CA_FILE" \
      -verify_return_error "${verify[@]}" 2>/dev/null) || true
  status=$(head -n 1 <<< "$response" | cut -d' ' -f2)
  if [ "$status" != 200 ]; then
    log "API server $address: ${status:-no answer within ${API_TIMEOUT}s, or a certificate not signed by $API_CA_FILE}"
    return 1
  fi
  printf '%s' "${response#*$'\r\n\r\n'}"
}

# The role label of our pod as the API server has it now; empty when it cannot be read.
confirmed_role() {
  local pod; pod=$(own_pod) || { echo ""; return; }
  sed -n 's/.*"pgha\.io\/role" *: *"\([a-z]*\)".*/\1/p' <<< "$pod" | head -n 1
}

first_primary() {
  [ -f "$CONFIG_DIR/first-primary" ] && tr -d '\n ' < "$CONFIG_DIR/first-primary" || true
}

primary_sql() {
  "$PG_BIN/psql" -X -qAt "host=$PRIMARY_HOST port=$PRIMARY_PORT user=$SUPERUSER dbname=postgres $TLS_CONNINFO" -c "$1"
}

# Prints the cluster_name of the server at the primary address when it is a primary (not in recovery).
primary_answering() {
  local out
  out=$(primary_sql "SELECT current_setting('cluster_name') WHERE NOT pg_is_in_recovery()" 2>/dev/null) || return 1
  [ -n "$out" ] || return 1
  echo "$out"
}

wait_for_primary() {
  local deadline=$(($(date +%s) + WAIT_SECONDS)) name
  until name=$(primary_answering) && [ "$name" != "$PGHA_INSTANCE" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || die "no primary answered at $PRIMARY_HOST:$PRIMARY_PORT within ${WAIT_SECONDS}s: not starting"
    sleep 2
  done
  log "current primary is $name"
}

ensure_slot() {
  primary_sql "SELECT pg_create_physical_replication_slot('$SLOT') WHERE NOT EXISTS \
    (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$SLOT')" >/dev/null
}

# standby.signal and the primary connection, in postgresql.auto.conf where ALTER SYSTEM can re-point it.
write_standby_settings() {
  local auto=$PGDATA/postgresql.auto.conf
  touch "$auto"
  grep -v -e '^primary_conninfo' -e '^primary_slot_name' "$auto" > "$auto.new" || true
  {
    echo "primary_conninfo = 'host=$PRIMARY_HOST port=$PRIMARY_PORT user=$REPLICATION_USER passfile=$PASSFILE application_name=$PGHA_INSTANCE $STREAM_TLS_CONNINFO'"
    echo "primary_slot_name = '$SLOT'"
  } >> "$auto.new"
  mv "$auto.new" "$auto"
  touch "$PGDATA/standby.signal"
}

server_options() {
  echo -c "config_file=$CONFIG_DIR/postgresql.conf" -c "hba_file=$CONFIG_DIR/pg_hba.conf" \
    -c "port=$PORT" -c "unix_socket_directories=$RUN_DIR" -c "cluster_name=$PGHA_INSTANCE" \
    -c "ssl_cert_file=$SERVER_TLS_DIR/server.crt" -c "ssl_key_file=$SERVER_TLS_DIR/server.key"
}

do_initdb() {
  log "initdb: this instance is the designated first primary"
  local tmp=$PGDATA.initdb
  rm -rf "$tmp"
  "$PG_BIN/initdb" -D "$tmp" --username="$SUPERUSER" --pwfile="$SECRETS_DIR/superuser-password" \
    --auth=scram-sha-256 --data-checksums --locale="$LOCALE" --encoding=UTF8 >&2
  # roles and the application database, over the socket only, before anyone can connect
  # shellcheck disable=SC2046
  "$PG_BIN/pg_ctl" -D "$tmp" -w -t 120 -l "$RUN_DIR/initdb-start.log" start \
    -o "$(server_options) -c listen_addresses=''" >&2
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "host=$RUN_DIR port=$PORT user=$SUPERUSER dbname=postgres" \
    -v repl_user="$REPLICATION_USER" -v repl_pw="$(secret replication-password)" \
    -v app_user="$(secret app-username)" -v app_pw="$(secret app-password)" -v app_db="$(secret app-database)" \
    -v router_pw="$(secret router-auth-password)" <<'SQL'
SET synchronous_commit TO local;
SET password_encryption TO 'scram-sha-256';
CREATE ROLE :"repl_user" WITH LOGIN REPLICATION PASSWORD :'repl_pw';
CREATE ROLE :"app_user" WITH LOGIN PASSWORD :'app_pw';
CREATE DATABASE :"app_db" OWNER :"app_user";
CREATE ROLE pgha_router WITH LOGIN PASSWORD :'router_pw';
SQL
  apply_router_auth "host=$RUN_DIR port=$PORT user=$SUPERUSER dbname=postgres" >&2
  "$PG_BIN/pg_ctl" -D "$tmp" -w -m fast stop >&2
  mv "$tmp" "$PGDATA"
}

# The router's lookup function and its grant. Every statement in the file is idempotent. Its commit
# must not wait for a synchronous standby (there may be none yet), nor may it hang a probe.
apply_router_auth() {
  PGOPTIONS="-c synchronous_commit=local -c statement_timeout=5000" \
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$1" -f "$ROUTER_AUTH_SQL"
}

# pg_basebackup marks each WAL file it streamed whole as archived (.done). This standby archives
# them too instead (archive_mode = always; a push of what the archive already holds succeeds):
# a primary that could not archive them and died would otherwise leave them in no archive.
mark_streamed_wal_waiting() {
  local mark
  for mark in "$1"/pg_wal/archive_status/*.done; do
    [ -e "$mark" ] || continue
    mv "$mark" "${mark%.done}.ready"
  done
}

do_clone() {
  wait_for_primary
  log "cloning from the primary with pg_basebackup through slot $SLOT"
  ensure_slot
  local tmp=$PGDATA.clone
  rm -rf "$tmp"
  "$PG_BIN/pg_basebackup" -d "host=$PRIMARY_HOST port=$PRIMARY_PORT user=$REPLICATION_USER application_name=$PGHA_INSTANCE $TLS_CONNINFO" \
    -D "$tmp" -X stream -S "$SLOT" --checkpoint=fast >&2
  mark_streamed_wal_waiting "$tmp"
  mv "$tmp" "$PGDATA"
  write_standby_settings
}

# A former primary comes back only as a standby: pg_rewind onto the current primary's timeline, or a fresh clone.
do_rejoin() {
  wait_for_primary
  log "former primary: rewinding onto the current primary"
  ensure_slot
  # pg_rewind first finishes crash recovery in single-user mode, which reads only the data
  # directory's postgresql.conf: point it at the shared one, or recovery runs with defaults
  # (wal_keep_size 0) and may recycle the WAL the rewind needs
  echo "include '$CONFIG_DIR/postgresql.conf'" > "$PGDATA/postgresql.conf"
  if "$PG_BIN/pg_rewind" -D "$PGDATA" \
      --source-server="host=$PRIMARY_HOST port=$PRIMARY_PORT user=$SUPERUSER dbname=postgres $TLS_CONNINFO" >&2; then
    write_standby_settings
    echo pg_rewind > "$PGDATA/pgha-rejoined-by"
  else
    log "pg_rewind failed: discarding the data directory and cloning afresh"
    rm -rf "$PGDATA"
    do_clone
    echo reclone > "$PGDATA/pgha-rejoined-by"
  fi
}

run() {
  write_passfile
  # before any start: postgresql.conf turns ssl on and names these files
  install_tls
  local role; role=$(role)
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"
    if [ "$(first_primary)" = "$PGHA_INSTANCE" ] && [ "$role" = primary ] && ! primary_answering >/dev/null; then
      do_initdb
    else
      do_clone
    fi
  elif [ -f "$PGDATA/standby.signal" ]; then
    log "starting as a standby"
    write_standby_settings
    if primary_answering >/dev/null; then ensure_slot || true; fi
  else
    # the API server is the authority on the label; the file may lag behind it either way
    if { [ "$role" = primary ] || [ "$(confirmed_role 2>/dev/null)" = primary ]; } && await_confirmed_primary; then
      log "starting as the primary"
    else
      do_rejoin
    fi
  fi
  chmod 700 "$PGDATA"
  rm -f "$RUN_DIR/isolated-since"
  # shellcheck disable=SC2046
  exec "$PG_BIN/postgres" -D "$PGDATA" $(server_options) -c "listen_addresses=$LISTEN"
}

# A primary's data directory labelled primary starts as the primary only once the API server
# confirms the label now and no other primary answers: after a container restart on a node cut off
# from the control plane the labels file may still say primary long after a failover. Waits for
# either answer; fails (the caller rejoins) when another primary answers, gives up after
# WAIT_SECONDS without starting anything.
await_confirmed_primary() {
  local deadline=$(($(date +%s) + WAIT_SECONDS)) other confirmed
  while :; do
    if other=$(primary_answering) && [ "$other" != "$PGHA_INSTANCE" ]; then
      log "labelled primary, but $other already is: refusing a second primary"
      return 1
    fi
    confirmed=$(confirmed_role)
    [ "$confirmed" = primary ] && return 0
    if [ -n "$confirmed" ]; then
      log "the API server says role '$confirmed', not primary: rejoining"
      return 1
    fi
    [ "$(date +%s)" -lt "$deadline" ] || die "labelled primary, but the API server did not confirm it within ${WAIT_SECONDS}s: not starting"
    log "labelled primary: waiting for the API server to confirm it"
    sleep 2
  done
}

local_sql() {
  "$PG_BIN/psql" -X -qAt "host=$RUN_DIR port=$PORT user=$SUPERUSER dbname=postgres" -c "$1"
}

ready() {
  "$PG_BIN/pg_isready" -q -h "$RUN_DIR" -p "$PORT" || exit 1
  # a standby counts as ready only while it streams from the primary
  [ "$(local_sql "SELECT NOT pg_is_in_recovery() OR EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')")" = t ]
}

live() {
  "$PG_BIN/pg_isready" -q -h "$RUN_DIR" -p "$PORT" || exit 1
  reload_if_changed
  # a server that answers but refuses this query (all connections taken, say) is not failed for it
  local state; state=$(local_sql "SELECT pg_is_in_recovery(), to_regprocedure('pgha.auth_lookup(text)') IS NOT NULL") || exit 0
  [ "${state%%|*}" = f ] || exit 0
  not_isolated || exit 1
  ensure_router_auth "${state#*|}"
}

# 0 while this primary proves API access. Once it has failed to for ISOLATION_SECONDS (counted from
# the start of the first failed check) it stops its server at once and returns 1: a primary the
# monitor may have replaced, and fenced through a pod deletion its kubelet never sees, takes no
# more writes. A TCP connection alone proves nothing (a proxy or a half-cut network answers it).
not_isolated() {
  local started; started=$(date +%s)
  if own_pod > /dev/null; then
    rm -f "$RUN_DIR/isolated-since"
    return 0
  fi
  [ -f "$RUN_DIR/isolated-since" ] || echo "$started" > "$RUN_DIR/isolated-since"
  local since now; since=$(cat "$RUN_DIR/isolated-since"); now=$(date +%s)
  if [ $((now - since)) -ge "$ISOLATION_SECONDS" ]; then
    log "primary cut off from the API server for $((now - since))s: stopping the server"
    "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -t "$STOP_SECONDS" -w stop >&2 || log "pg_ctl stop failed: the kubelet restarts the container"
    return 1
  fi
}

# A primary initialised before pgha created the router's lookup function at initdb lacks it; one
# whose file changed since this pod last ran it may hold an older text. Either way: run the file.
ensure_router_auth() {
  [ -f "$ROUTER_AUTH_SQL" ] || return 0
  local present=$1 sum; sum=$(md5sum < "$ROUTER_AUTH_SQL" | cut -d' ' -f1)
  [ "$present" = t ] && [ "$(cat "$RUN_DIR/router-auth.md5" 2>/dev/null)" = "$sum" ] && return 0
  if apply_router_auth "host=$RUN_DIR port=$PORT user=$SUPERUSER dbname=postgres" >/dev/null 2>"$RUN_DIR/router-auth.err"; then
    echo "$sum" > "$RUN_DIR/router-auth.md5"
    log "router lookup function pgha.auth_lookup created or updated"
  else
    log "cannot create the router lookup function yet: $(head -c 300 "$RUN_DIR/router-auth.err")"
  fi
}

# The ConfigMap and Secret volumes follow edits (a renewed certificate among them); the server
# rereads its files, its certificate and key included, when their content changed.
reload_if_changed() {
  local sum; sum=$(cat "$CONFIG_DIR/postgresql.conf" "$CONFIG_DIR/pg_hba.conf" "$TLS_DIR/tls.crt" "$TLS_DIR/tls.key" | md5sum | cut -d' ' -f1)
  if [ -f "$RUN_DIR/config.md5" ] && [ "$(cat "$RUN_DIR/config.md5")" != "$sum" ]; then
    install_tls
    local_sql "SELECT pg_reload_conf()" >/dev/null && log "configuration or certificate changed: reloaded"
  fi
  echo "$sum" > "$RUN_DIR/config.md5"
}

case "${1:-run}" in
  run) run ;;
  ready) ready ;;
  live) live ;;
  *) die "usage: bootstrap.sh run|ready|live" ;;
esac
