#!/usr/bin/env bash
# Installs what Triage needs on a fresh Debian machine: the C libraries, PostgreSQL 15 and
# its contrib modules (with --test also what the tests need: chromium, and the monitoring
# servers the alert tests run: Alertmanager, Prometheus, postgres-exporter). Skips what is already
# there. Needs root (or sudo).
set -euo pipefail
need=()
pkgs="libcurl4-openssl-dev libpq-dev libsqlite3-dev postgresql-15 postgresql-client-15 postgresql-contrib python3-venv curl"
# --test: what the test suite needs besides (a headless browser for the HTML postmortem test).
[ "${1:-}" = --test ] && pkgs="$pkgs chromium prometheus-alertmanager prometheus prometheus-postgres-exporter"
for p in $pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (expected Swift 6.x, e.g. /opt/swift/usr/bin)" >&2; exit 1; }
