#!/usr/bin/env bash
# Telegram benchmark through the Bot API stand-in, side by side in one run with a minimal stdlib
# Python bot and that bot plus one exactly-once SQLite transaction per command: own part p50/p99
# over 1,000 /ping, CPU, context switches and syscalls per command, burst throughput, idle
# context switches per minute and RSS after the pings (see scripts/bench_telegram.py).
# usage: scripts/bench-telegram.sh [--pings N] [--burst N] [--idle SECONDS] [--only BOT] [--binary PATH]
# Builds the release binary unless --binary is given. /ping needs no database.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " != *" --binary "* ]]; then
  swift build -c release --product triage --static-swift-stdlib --scratch-path .build-release >/dev/null
fi
exec python3 scripts/bench_telegram.py "$@"
