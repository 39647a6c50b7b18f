#!/usr/bin/env bash
# Doubled replies under SIGKILL: runs the 50-SIGKILL storm of Tests/e2e/test_under_fire.py
# RUNS times (default 4) against the built binary and the Telegram stand-in, and prints each
# run's line and the totals: replies doubled, reply parts found "sending" after a kill (sent
# again; a double when the killed process's call had arrived), replies missing.
# Needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL (see scripts/test.sh); TRIAGE_TEST_PYTHON optional.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-4}
PY=${TRIAGE_TEST_PYTHON:-python3}
: "${TRIAGE_BINARY:?set TRIAGE_BINARY to the built triage binary}"
: "${TRIAGE_TEST_PG_URL:?set TRIAGE_TEST_PG_URL to a PostgreSQL URL}"
kills=0 doubled=0 resent=0 missing=0
for i in $(seq "$RUNS"); do
  line=$("$PY" -m pytest -q -s Tests/e2e/test_under_fire.py -k fifty_sigkills 2>&1 | grep '^storm:' || true)
  [ -n "$line" ] || { echo "run $i: the storm test did not report (failed?)" >&2; exit 1; }
  echo "run $i: $line"
  kills=$((kills + $(sed -E 's/.* ([0-9]+) kills.*/\1/' <<<"$line")))
  doubled=$((doubled + $(sed -E 's/.*replies doubled ([0-9]+).*/\1/' <<<"$line")))
  resent=$((resent + $(sed -E 's/.*resent after a kill ([0-9]+).*/\1/' <<<"$line")))
  missing=$((missing + $(sed -E 's/.*replies missing ([0-9]+).*/\1/' <<<"$line")))
done
echo "total: $kills SIGKILLs during bursts, $doubled replies doubled, $resent parts resent after a kill, $missing replies missing"
