#!/usr/bin/env bash
# Telegram benchmark: round trip through the Bot API stand-in (p50/p99 over 1,000 /ping) and
# Triage's own share of it; idle CPU and RSS over 60 s of long-polling with no traffic.
# usage: scripts/bench-telegram.sh [--pings N] [--idle SECONDS] [--binary PATH]
# Builds the release binary unless --binary is given. /ping needs no database.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " != *" --binary "* ]]; then
  swift build -c release --product triage --static-swift-stdlib --scratch-path .build-release >/dev/null
fi
exec python3 scripts/bench_telegram.py "$@"
