#!/usr/bin/env bash
# Builds Triage and starts `triage console` in this terminal. Uses the PostgreSQL in
# DATABASE_URL when set; otherwise starts a throwaway local PostgreSQL 15 with the demo shop
# (scripts/demo/: a small schema with the runbook's incidents staged live in it), and stops
# it and the demo's sessions when the console ends. TRIAGE_DEMO=0 gives an empty database.
# Extra arguments go to `triage console` (e.g. --config config/console.example.yaml).
# The console is a debug build (quick to build); `triage run` and the benchmarks use release.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
scripts/install-deps.sh
mkdir -p .build
LOG=.build/start-build.log

DEMO=0
if [ -z "${DATABASE_URL:-}" ]; then
  DIR=$(mktemp -d /tmp/triage-pg.XXXXXX); chmod 755 "$DIR"
  PORT=${TRIAGE_PG_PORT:-55433}
  [ "${TRIAGE_DEMO:-1}" = 0 ] || DEMO=1
  STAGE_PID="" DEMO_PID=""
  cleanup() {
    for pid in $DEMO_PID $STAGE_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    scripts/pg.sh down "$DIR" >/dev/null 2>&1 || true
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP
  # The database is started and the demo schema loaded while Triage builds.
  (
    if [ $DEMO = 1 ]; then
      # max_connections 50: the demo's idle connections then fill most of them.
      ADMIN_URL=$(TRIAGE_PG_MAX_CONNECTIONS=50 scripts/pg.sh up "$DIR" "$PORT")
      psql "$ADMIN_URL" -qc "CREATE DATABASE shop"
      psql "postgresql://postgres@127.0.0.1:$PORT/shop" -q -v ON_ERROR_STOP=1 -f scripts/demo/shop.sql
    else
      scripts/pg.sh up "$DIR" "$PORT"
    fi
  ) >"$DIR/stage.log" 2>&1 &
  STAGE_PID=$!
fi

# The build's output goes to a log, shown only when the build fails.
if ! swift build --product triage >"$LOG" 2>&1; then
  cat "$LOG" >&2
  echo "start.sh: the build failed (log: $PWD/$LOG)" >&2
  exit 1
fi

if [ -n "${DIR:-}" ]; then
  if ! wait "$STAGE_PID"; then
    STAGE_PID=""
    cat "$DIR/stage.log" >&2; echo "start.sh: starting the throwaway PostgreSQL failed" >&2; exit 1
  fi
  STAGE_PID=""
  if [ $DEMO = 0 ]; then
    export DATABASE_URL=$(tail -1 "$DIR/stage.log")
    echo "started a throwaway PostgreSQL at $DATABASE_URL (empty)" >&2
  else
    export DATABASE_URL=postgresql://postgres@127.0.0.1:$PORT/shop
    # The live sessions; they end when this script does (or when it is killed).
    python3 scripts/demo/sessions.py 127.0.0.1 "$PORT" postgres shop --idle 34 >"$DIR/sessions.out" 2>&1 &
    DEMO_PID=$!
    for _ in $(seq 300); do
      grep -q '^ready' "$DIR/sessions.out" 2>/dev/null && break
      kill -0 "$DEMO_PID" 2>/dev/null || break
      sleep 0.05
    done
    grep -q '^ready' "$DIR/sessions.out" || { cat "$DIR/sessions.out" >&2; echo "start.sh: the demo sessions did not start" >&2; exit 1; }
    cat >&2 <<BANNER
Demo: a throwaway PostgreSQL with a small shop ($DATABASE_URL), these incidents staged live:
  - the shop's API (shop-api) holding 34 idle connections, max_connections is 50
  - shop-worker idle in transaction, pinning the xmin horizon: cart_events keeps 70% dead tuples
  - a lock chain on orders id 1: shop-billing holds the row, two shop-checkout updates wait
  - a failed Prisma migration (20251031_add_analytics_table in _prisma_migrations)
  - a slow report in pg_stat_statements, an INVALID index, an orphaned foreign key (NOT VALID)
Try first:  /pg health    /pg locks    /pg idle-tx
The demo stops with the console. Your own database: DATABASE_URL=... scripts/start.sh
BANNER
  fi
fi
.build/debug/triage console "$@"
