#!/usr/bin/env bash
# Round trip on Matrix as a person sees it: Alice sends `/ping` to a room, and her own client's
# /sync long-poll receives Triage's reply. N sequential pings (default 100) against a real
# Synapse on loopback; prints min, p50, p90, p99 and max in milliseconds.
# usage: scripts/bench-matrix.sh [N]     env: TRIAGE_BINARY (default .build-release/release/triage, else
#        .build/debug/triage), TRIAGE_SYNAPSE_PORT (58208), TRIAGE_CACHE (Synapse venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-100}
BIN=${TRIAGE_BINARY:-}
if [ -z "$BIN" ]; then
  if [ -x .build-release/release/triage ]; then BIN=$ROOT/.build-release/release/triage; else swift build >/dev/null; BIN=$ROOT/.build/debug/triage; fi
fi
WORK=$(mktemp -d /tmp/triage-bench-matrix.XXXXXX)
BOT_PID=
cleanup() {
  [ -n "$BOT_PID" ] && kill "$BOT_PID" 2>/dev/null && wait "$BOT_PID" 2>/dev/null || true
  scripts/synapse.sh down "$WORK/synapse" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# The bench measures latency, not Synapse's anti-spam limit: lift the bot's message rate limit.
TRIAGE_SYNAPSE_PORT=${TRIAGE_SYNAPSE_PORT:-58208} TRIAGE_SYNAPSE_RC_MESSAGE="per_second: 1000, burst_count: 1000" \
  scripts/synapse.sh up "$WORK/synapse" >/dev/null
set -a; . "$WORK/synapse/env"; set +a
cat > "$WORK/triage.yaml" <<YAML
databases: [{name: main, url: "postgresql://127.0.0.1:1/unused"}]
timeline: $WORK/timeline.sqlite
commands: $ROOT/commands
roles: {default: none}
matrix:
  homeserver: $MATRIX_HS
  user_id: "$MATRIX_BOT_USER"
  password_env: MATRIX_BOT_PASSWORD
  rooms: ["$MATRIX_ROOM_OPS"]
  users: {"$MATRIX_ALICE_USER": operator}
YAML
TRIAGE_LOG_LEVEL=info "$BIN" run --config "$WORK/triage.yaml" >"$WORK/bot.log" 2>&1 &
BOT_PID=$!
for _ in $(seq 300); do grep -q "matrix first sync" "$WORK/bot.log" && break; sleep 0.1; done
grep -q "matrix first sync" "$WORK/bot.log" || { cat "$WORK/bot.log"; exit 1; }
echo "binary: $BIN"
python3 - "$N" <<'PY'
import json, os, statistics, sys, time, urllib.parse, urllib.request, uuid
hs, token, room, bot = os.environ["MATRIX_HS"], os.environ["MATRIX_ALICE_TOKEN"], os.environ["MATRIX_ROOM_OPS"], os.environ["MATRIX_BOT_USER"]
flt = json.dumps({"room": {"timeline": {"types": ["m.room.message"], "senders": [bot]}, "state": {"types": []},
                           "ephemeral": {"types": []}}, "presence": {"types": []}, "account_data": {"types": []}})
def call(method, path, body=None, timeout=60):
    req = urllib.request.Request(hs + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())
def sync(since, timeout):
    q = {"filter": flt, "timeout": str(timeout)}
    if since: q["since"] = since
    return call("GET", "/_matrix/client/v3/sync?" + urllib.parse.urlencode(q))
since = sync(None, 0)["next_batch"]
times = []
rq = urllib.parse.quote(room, safe="")
for i in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    eid = call("PUT", f"/_matrix/client/v3/rooms/{rq}/send/m.room.message/{uuid.uuid4().hex}",
               {"msgtype": "m.text", "body": "/ping"})["event_id"]
    got = False
    while not got:
        r = sync(since, 30000)
        since = r["next_batch"]
        for ev in r.get("rooms", {}).get("join", {}).get(room, {}).get("timeline", {}).get("events", []):
            rel = ev["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            if rel == eid:
                got = True
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
pct = lambda p: times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))]
print(f"matrix /ping round trip over {len(times)} pings (ms): min {times[0]:.1f}  p50 {statistics.median(times):.1f}  "
      f"p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {times[-1]:.1f}")
PY
