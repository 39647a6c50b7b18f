#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what is missing, builds, starts a throwaway
# PostgreSQL 15 (and the other test servers), runs the Swift tests and the end-to-end tests,
# stops every server, and exits non-zero when any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${TRIAGE_CACHE:-$HOME/.cache/triage}
mkdir -p "$CACHE"
scripts/install-deps.sh --test

# Python environment for the end-to-end tests and test servers, kept outside the repo.
VENV=$CACHE/test-venv
if ! "$VENV/bin/python" -c 'import pytest, yaml' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pytest==8.3.5" "PyYAML==6.0.2"
fi

echo "== build"
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Build)' || true
swift build --build-tests >/dev/null   # fail here if the build failed

WORK=$(mktemp -d /tmp/triage-test.XXXXXX)
chmod 755 "$WORK"
PG_PORT=${TRIAGE_TEST_PG_PORT:-55432}
# Alert tests start their own Alertmanager on this port (an HA peer on the next), and the
# chain test Prometheus and postgres-exporter too (scripts/alertmanager.sh, under $WORK).
export TRIAGE_TEST_AM_PORT=${TRIAGE_TEST_AM_PORT:-59093}
export TRIAGE_TEST_PROM_PORT=${TRIAGE_TEST_PROM_PORT:-59090}
export TRIAGE_TEST_EXPORTER_PORT=${TRIAGE_TEST_EXPORTER_PORT:-59187}
cleanup() {
  # Monitoring servers a failed alert test left behind (each directory keeps its pid files).
  for d in $(find "$WORK" -maxdepth 3 -name am.port -printf '%h\n' 2>/dev/null); do
    scripts/alertmanager.sh down "$d" >/dev/null 2>&1 || true
  done
  [ -x scripts/synapse.sh ] && scripts/synapse.sh down "$WORK/synapse" >/dev/null 2>&1 || true
  scripts/pg.sh down "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== start PostgreSQL on 127.0.0.1:$PG_PORT"
export TRIAGE_TEST_PG_URL=$(scripts/pg.sh up "$WORK/pg" "$PG_PORT")
export TRIAGE_BINARY=$ROOT/.build/debug/triage
export TRIAGE_TEST_WORK=$WORK
# Parsed runbook files are cached between runs (RunbookCache): the tests keep theirs here.
export TRIAGE_CACHE_DIR=$WORK/cache
export TRIAGE_TEST_PYTHON=$VENV/bin/python

if [ -x scripts/synapse.sh ]; then
  echo "== start Synapse"
  scripts/synapse.sh up "$WORK/synapse" >"$WORK/synapse.out"
  set -a; . "$WORK/synapse/env"; set +a
fi

failed=0
echo "== swift test"
set +e
swift test --skip-build >"$WORK/swift-test.log" 2>&1
rc=$?
set -e
# Show failures and the closing summary, not every passing test.
awk '/Test run with|✘|error:|warning: unre|Fatal|fatal/ || !/^(✔|◇|↳|􀟈|\[|Test Suite|Test Case|\t Executed)/' "$WORK/swift-test.log" || true
[ $rc -eq 0 ] || failed=1

if ls Tests/e2e/test_*.py >/dev/null 2>&1; then
  echo "== end-to-end tests (pytest)"
  "$VENV/bin/python" -m pytest -q Tests/e2e || failed=1
fi

if [ $failed -ne 0 ]; then echo "TESTS FAILED"; exit 1; fi
echo "ALL TESTS PASSED"
