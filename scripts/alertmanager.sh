#!/usr/bin/env bash
# Throwaway monitoring servers on loopback for Triage's alert tests and benchmarks: a real
# Alertmanager (gossip off), prometheus-postgres-exporter and Prometheus (Debian packages).
#
#   scripts/alertmanager.sh up DIR PORT            -> Alertmanager; prints its URL
#   scripts/alertmanager.sh stop DIR | start DIR   -> stop / start it again (silences kept)
#   scripts/alertmanager.sh exporter DIR PORT PGURL [QUERIES] -> postgres-exporter; prints its URL
#                                                  (QUERIES default: config/prometheus/postgres-exporter-queries.yaml)
#   scripts/alertmanager.sh prometheus DIR PORT EXPORTER_PORT AM_PORT RULES [INTERVAL]
#                                                  -> Prometheus scraping the exporter, alerting to AM
#   scripts/alertmanager.sh down DIR               -> stops everything started in DIR, removes DIR
set -euo pipefail
cmd=${1:?usage: alertmanager.sh up|stop|start|exporter|prometheus|down DIR ...} dir=${2:?DIR}
AM=${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}
PROM=${PROMETHEUS_BIN:-/usr/bin/prometheus}
EXPORTER=${POSTGRES_EXPORTER_BIN:-/usr/bin/prometheus-postgres-exporter}

wait_http() { # URL NAME LOG PIDFILE (30 s: the test machine may be busy building)
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$1"; then return 0; fi
    kill -0 "$(cat "$4")" 2>/dev/null || break   # it exited (port taken, bad config)
    sleep 0.1
  done
  echo "$2 did not become ready at $1; log:" >&2; tail -20 "$3" >&2 || true; exit 1
}

start_am() {
  local port; port=$(cat "$dir/am.port")
  # --cluster.listen-address= turns gossip off: one standalone Alertmanager per directory.
  "$AM" --config.file="$dir/alertmanager.yml" --storage.path="$dir/am-data" \
        --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
        --log.level=warn >>"$dir/am.log" 2>&1 &
  echo $! >"$dir/am.pid"
  wait_http "http://127.0.0.1:$port/-/ready" Alertmanager "$dir/am.log" "$dir/am.pid"
}

stop_pid() { # FILE
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

case $cmd in
up)
  port=${3:?PORT}
  mkdir -p "$dir/am-data"
  echo "$port" >"$dir/am.port"
  # Group by alertname, hand alerts over at once: Triage reads them through the API.
  [ -f "$dir/alertmanager.yml" ] || cat >"$dir/alertmanager.yml" <<'YAML'
route:
  receiver: triage
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: triage
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname, datname]
YAML
  start_am
  echo "http://127.0.0.1:$port"
  ;;
stop)  stop_pid "$dir/am.pid" ;;
start) start_am ;;
exporter)
  port=${3:?PORT} url=${4:?PGURL}
  queries=${5:-$(cd "$(dirname "$0")/.." && pwd)/config/prometheus/postgres-exporter-queries.yaml}
  mkdir -p "$dir"
  # Default collectors (pg_stat_activity_count, pg_settings_*) plus the shipped queries
  # (pg_stat_user_tables_*, pg_stat_statements_*, pg_database_xid_*, pg_replication_lag).
  DATA_SOURCE_NAME="${url}?sslmode=disable" "$EXPORTER" --web.listen-address="127.0.0.1:$port" \
    --extend.query-path="$queries" --log.level=warn >>"$dir/exporter.log" 2>&1 &
  echo $! >"$dir/exporter.pid"
  wait_http "http://127.0.0.1:$port/metrics" postgres-exporter "$dir/exporter.log" "$dir/exporter.pid"
  echo "http://127.0.0.1:$port"
  ;;
prometheus)
  port=${3:?PORT} exporter=${4:?EXPORTER_PORT} am=${5:?AM_PORT} rules=${6:?RULES} interval=${7:-1s}
  mkdir -p "$dir/prom-data"
  cp "$rules" "$dir/rules.yml"
  cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: $interval
  evaluation_interval: $interval
rule_files: [$dir/rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$am"]}]
scrape_configs:
  - job_name: postgres
    static_configs: [{targets: ["127.0.0.1:$exporter"]}]
YAML
  "$PROM" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prom-data" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >>"$dir/prometheus.log" 2>&1 &
  echo $! >"$dir/prometheus.pid"
  wait_http "http://127.0.0.1:$port/-/ready" Prometheus "$dir/prometheus.log" "$dir/prometheus.pid"
  echo "http://127.0.0.1:$port"
  ;;
down)
  for f in prometheus exporter am; do stop_pid "$dir/$f.pid"; done
  rm -rf "$dir"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
