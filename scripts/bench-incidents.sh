#!/usr/bin/env bash
# Incident benchmarks (release build). Prints:
#   1. time and peak RSS of `triage postmortem` for an incident with $EVENTS events (goal: < 1 s
#      and < 100 MiB at 1,000,000 events), for Markdown (+ SVG beside it), HTML and JSON; each
#      figure is the best of $RUNS runs, and includes process start, streaming the events from
#      SQLite, rendering and writing the files. Beside it, in the same run, a minimal peer: the
#      sqlite3 command-line shell dumping the same rows (every column) to a file, and the ratio
#      triage / peer;
#   2. notes recorded per second through `triage console` (goal: > 2,000/s): $NOTES `/note`
#      lines piped in, each committed to SQLite before its reply is printed.
# Usage: scripts/bench-incidents.sh   (env: EVENTS=1000000 NOTES=20000 RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
EVENTS=${EVENTS:-1000000}
NOTES=${NOTES:-20000}
RUNS=${RUNS:-3}

swift build -c release --product triage --static-swift-stdlib --scratch-path .build-release 2>&1 | tail -1 >&2
BIN=$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)/triage
WORK=$(mktemp -d /tmp/triage-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# The snapshot at /incident open is not what is measured: point it where nothing listens.
export DATABASE_URL=${BENCH_DATABASE_URL:-postgresql://triage@127.0.0.1:1/none}
export TRIAGE_COMMANDS=$PWD/commands

echo "== postmortem of an incident with $EVENTS events (best of $RUNS)"
"$BIN" incidents --timeline "$WORK/pm.sqlite" >/dev/null          # creates and migrates the store
ID=$(python3 scripts/make-big-incident.py "$WORK/pm.sqlite" "$EVENTS")

# The peer: sqlite3 dumping the incident's rows, best of $RUNS.
peer=""
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" sqlite3 -batch "$WORK/pm.sqlite" \
    "SELECT id, incidentID, at, actor, kind, command, text, output, payload FROM timelineEvent WHERE incidentID = $ID ORDER BY id" \
    > "$WORK/peer.txt"
  read -r secs kb user sys < "$WORK/time"
  if [ -z "$peer" ] || awk "BEGIN{exit !($secs < ${peer%% *})}"; then peer="$secs $kb $user $sys"; fi
done
read -r psecs pkb puser psys <<<"$peer"
printf '%-9s %6.2f s wall (%.2f s CPU)   peak RSS %6.1f MiB   output %s (sqlite3 dumping the same rows)\n' "peer" "$psecs" \
  "$(awk "BEGIN{print $puser+$psys}")" "$(awk "BEGIN{print $pkb/1024}")" "$(du -h "$WORK/peer.txt" | cut -f1)"
rm -f "$WORK/peer.txt"

for fmt in markdown html json; do
  best=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$BIN" postmortem "$ID" --timeline "$WORK/pm.sqlite" \
      --format "$fmt" -o "$WORK/out/report.$fmt" >/dev/null
    read -r secs kb user sys < "$WORK/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < ${best%% *})}"; then best="$secs $kb $user $sys"; fi
  done
  read -r secs kb user sys <<<"$best"
  size=$(du -ch "$WORK"/out/* | tail -1 | cut -f1)
  printf '%-9s %6.2f s wall (%.2f s CPU)   peak RSS %6.1f MiB   output %s   %.2fx the peer (goal: < 1 s, < 100 MiB)\n' "$fmt" "$secs" \
    "$(awk "BEGIN{print $user+$sys}")" "$(awk "BEGIN{print $kb/1024}")" "$size" "$(awk "BEGIN{print $secs/$psecs}")"
  rm -rf "$WORK/out"
done

echo "   (machine load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"

echo "== notes per second through triage console ($NOTES notes)"
{ echo "/incident open sev3 Benchmark"; seq 1 "$NOTES" | sed 's|^|/note benchmark note number |'; } > "$WORK/notes.txt"
start=$(date +%s.%N)
"$BIN" console --timeline "$WORK/notes.sqlite" < "$WORK/notes.txt" > "$WORK/replies.txt"
end=$(date +%s.%N)
acked=$(grep -c '^Noted in incident #1 (event ' "$WORK/replies.txt" || true)
stored=$(sqlite3 "$WORK/notes.sqlite" "SELECT count(*) FROM timelineEvent WHERE kind = 'note'")
awk -v n="$NOTES" -v s="$start" -v e="$end" -v a="$acked" -v st="$stored" 'BEGIN {
  printf "console   %6.2f s   %8.0f notes/s   acknowledged %d, stored %d (goal: > 2000/s)\n", e - s, n / (e - s), a, st }'
[ "$acked" -eq "$NOTES" ] && [ "$stored" -eq "$NOTES" ] || { echo "MISMATCH: not every note was acknowledged and stored" >&2; exit 1; }
