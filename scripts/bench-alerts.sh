#!/usr/bin/env bash
# Alerts benchmark: Alertmanager fired -> message in the room (p50 over 20 alerts at the
# default 15 s poll and at 1 s), CPU per poll with 1,000 active alerts, memory with 10,000
# fingerprints. Starts a throwaway PostgreSQL and a real Alertmanager on loopback.
# usage: scripts/bench-alerts.sh [--alerts N] [--skip-default] [--binary PATH]
# Ports: BENCH_PG_PORT (55445), BENCH_AM_PORT (59093). Builds the release binary unless --binary is given.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " != *" --binary "* ]]; then
  swift build -c release --product triage --static-swift-stdlib --scratch-path .build-release >/dev/null
fi
WORK=$(mktemp -d /tmp/bench-alerts.XXXXXX)
chmod 755 "$WORK"
trap 'scripts/alertmanager.sh down "$WORK/am" >/dev/null 2>&1 || true; scripts/pg.sh down "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
PG=$(scripts/pg.sh up "$WORK/pg" "${BENCH_PG_PORT:-55445}")
AM=$(scripts/alertmanager.sh up "$WORK/am" "${BENCH_AM_PORT:-59093}")
python3 scripts/bench_alerts.py --alertmanager "$AM" --pg-url "$PG" "$@"
