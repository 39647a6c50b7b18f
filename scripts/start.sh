#!/usr/bin/env bash
# Builds Triage and starts `triage console` in this terminal. Uses the PostgreSQL in
# DATABASE_URL when set; otherwise starts a throwaway local PostgreSQL 15 (stopped on exit).
# Extra arguments go to `triage console` (e.g. --config config/console.example.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
scripts/install-deps.sh
swift build -c release --product triage --static-swift-stdlib --scratch-path .build-release >&2
if [ -z "${DATABASE_URL:-}" ]; then
  DIR=$(mktemp -d /tmp/triage-pg.XXXXXX); chmod 755 "$DIR"
  PORT=${TRIAGE_PG_PORT:-55433}
  trap 'scripts/pg.sh down "$DIR" >/dev/null 2>&1 || true' EXIT
  export DATABASE_URL=$(scripts/pg.sh up "$DIR" "$PORT")
  echo "started a throwaway PostgreSQL at $DATABASE_URL" >&2
fi
.build-release/release/triage console "$@"
