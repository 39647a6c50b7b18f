#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster on loopback, for Triage's tests, benchmarks and `scripts/start.sh`.
# usage: scripts/pg.sh up DIR PORT   -> prints a libpq URL;   scripts/pg.sh down DIR
# (env TRIAGE_PG_MAX_CONNECTIONS: max_connections, default 100)
# initdb refuses root, so the cluster runs as the postgres user (created if missing).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg.sh up DIR PORT | down DIR} dir=${2:?DIR}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
up)
  port=${3:?PORT}
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    install -d -o postgres -g postgres "$dir"
  else
    mkdir -p "$dir"
  fi
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log"
  # Settings go in the config file so that `stop` then `start` comes back the same.
  cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements'
max_connections = ${TRIAGE_PG_MAX_CONNECTIONS:-100}
# Prepared transactions and logical slots: /pg xmin, /pg locks and /pg rollback-prepared are tested with them.
max_prepared_transactions = 10
wal_level = logical
fsync = off
CONF
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
  psql "postgresql://postgres@127.0.0.1:$port/postgres" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  echo "postgresql://postgres@127.0.0.1:$port/postgres"
  ;;
stop)   # stop but keep the data (to test "database down")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
start)  # start a stopped cluster again
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
  ;;
down)
  [ -d "$dir/data" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
