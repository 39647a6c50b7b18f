#!/usr/bin/env bash
# A throwaway Synapse homeserver on loopback for Triage's Matrix tests and benchmark.
# usage: scripts/synapse.sh up DIR     install (cached venv), configure, start, register users,
#                                      create rooms; writes DIR/env (source it). A second `up` on
#                                      the same DIR only starts the server again (restart tests).
#        scripts/synapse.sh down DIR   stop the server started by `up`.
# env:   TRIAGE_SYNAPSE_PORT (58008), TRIAGE_CACHE (~/.cache/triage; the venv lives there),
#        TRIAGE_SYNAPSE_RC_MESSAGE (the bot's message rate limit, "per_second: 2, burst_count: 4")
# Users: @bot (the bot), @alice (operator; room creator; server admin), @bob (viewer),
#        @carol (no role). Humans are exempt from rate limits, so only the bot meets 429s.
# Rooms: ops (allowed in the tests' config; the bot is invited, not joined), other (not in
#        config; the bot is invited: it must not join), side (not in config; the bot is joined).
set -euo pipefail
SYNAPSE_VERSION=1.163.2
cmd=${1:?usage: synapse.sh up|down DIR}
DIR=$(realpath -m "${2:?DIR}")
PORT=${TRIAGE_SYNAPSE_PORT:-58008}
HS=http://127.0.0.1:$PORT
CACHE=${TRIAGE_CACHE:-$HOME/.cache/triage}
VENV=$CACHE/synapse-venv
PY=$VENV/bin/python

stop() {
  [ -f "$DIR/synapse.pid" ] || return 0
  local pid; pid=$(cat "$DIR/synapse.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$DIR/synapse.pid"
}

start() {
  "$PY" -m synapse.app.homeserver -c "$DIR/homeserver.yaml" >>"$DIR/synapse.log" 2>&1 &
  echo $! > "$DIR/synapse.pid"
  for _ in $(seq 600); do
    curl -sf -o /dev/null "$HS/_matrix/client/versions" && return 0
    kill -0 "$(cat "$DIR/synapse.pid")" 2>/dev/null || { tail -30 "$DIR/synapse.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "synapse did not start on $HS" >&2; exit 1
}

case $cmd in
down) stop; exit 0 ;;
up) ;;
*) echo "usage: synapse.sh up|down DIR" >&2; exit 2 ;;
esac

if [ -f "$DIR/env" ]; then   # already set up: start again with the same database
  stop; start; echo "synapse up on $HS (restarted)"; exit 0
fi

mkdir -p "$CACHE" "$DIR"
if [ "$("$PY" -c 'import synapse;print(synapse.__version__)' 2>/dev/null)" != "$SYNAPSE_VERSION" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --only-binary=:all: "matrix-synapse==$SYNAPSE_VERSION"
fi

SECRET=$("$PY" -c 'import secrets;print(secrets.token_hex(16))')
FAST='{per_second: 1000, burst_count: 1000}'
cat > "$DIR/homeserver.yaml" <<YAML
server_name: localhost
pid_file: $DIR/homeserver.pid
signing_key_path: $DIR/localhost.signing.key
media_store_path: $DIR/media_store
log_config: $DIR/log.yaml
database: {name: sqlite3, args: {database: $DIR/homeserver.db}}
listeners:
  - {port: $PORT, bind_addresses: ['127.0.0.1'], type: http, tls: false, x_forwarded: false,
     resources: [{names: [client], compress: false}]}
registration_shared_secret: "$SECRET"
report_stats: false
federation_domain_whitelist: []
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
url_preview_enabled: false
presence: {enabled: false}
rc_message: {${TRIAGE_SYNAPSE_RC_MESSAGE:-per_second: 2, burst_count: 4}}
rc_registration: $FAST
rc_login: {address: $FAST, account: $FAST, failed_attempts: $FAST}
rc_joins: {local: $FAST, remote: $FAST}
rc_joins_per_room: $FAST
rc_invites: {per_room: $FAST, per_user: $FAST, per_issuer: $FAST}
rc_room_creation: $FAST
rc_profile: $FAST
YAML
cat > "$DIR/log.yaml" <<YAML
version: 1
formatters: {precise: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}}
handlers: {console: {class: logging.StreamHandler, formatter: precise}}
root: {level: WARNING, handlers: [console]}
disable_existing_loggers: false
YAML
T0=$(date +%s%N)
start
echo "synapse $SYNAPSE_VERSION up on $HS after $(( ($(date +%s%N) - T0) / 1000000 )) ms"

# JSON helpers (Python from the venv: no jq on a fresh machine).
j() { "$PY" -c 'import sys,json;print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
q() { "$PY" -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
api() { # METHOD PATH TOKEN [BODY]
  curl -sf -X "$1" "$HS$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' -d "${4:-{\}}"
}
register() { # user pass admin -> shared-secret admin API (HMAC-SHA1 over nonce\0user\0pass\0admin|notadmin)
  local nonce mac kind=notadmin
  [ "$3" = true ] && kind=admin
  nonce=$(curl -sf "$HS/_synapse/admin/v1/register" | j nonce)
  mac=$("$PY" -c 'import hmac,hashlib,sys;n,u,p,k,s=sys.argv[1:];print(hmac.new(s.encode(),"\0".join([n,u,p,k]).encode(),hashlib.sha1).hexdigest())' "$nonce" "$1" "$2" "$kind" "$SECRET")
  curl -sf -XPOST "$HS/_synapse/admin/v1/register" -H 'Content-Type: application/json' \
    -d "{\"nonce\":\"$nonce\",\"username\":\"$1\",\"password\":\"$2\",\"admin\":$3,\"mac\":\"$mac\"}" | j access_token
}
BOT_TOKEN=$(register bot botpass false)
ALICE_TOKEN=$(register alice alicepass true)
BOB_TOKEN=$(register bob bobpass false)
CAROL_TOKEN=$(register carol carolpass false)
for u in alice bob carol; do   # people are never rate-limited here; the bot is
  api POST "/_synapse/admin/v1/users/$(q "@$u:localhost")/override_ratelimit" "$ALICE_TOKEN" \
    '{"messages_per_second":0,"burst_count":0}' >/dev/null
done
room() { # name invitees-json -> room id
  api POST /_matrix/client/v3/createRoom "$ALICE_TOKEN" "{\"preset\":\"private_chat\",\"name\":\"$1\",\"invite\":$2}" | j room_id
}
OPS=$(room ops '["@bot:localhost","@bob:localhost","@carol:localhost"]')
OTHER=$(room other '["@bot:localhost","@bob:localhost"]')
SIDE=$(room side '["@bot:localhost","@bob:localhost"]')
for r in "$OPS" "$OTHER" "$SIDE"; do api POST "/_matrix/client/v3/join/$(q "$r")" "$BOB_TOKEN" >/dev/null; done
api POST "/_matrix/client/v3/join/$(q "$OPS")" "$CAROL_TOKEN" >/dev/null
api POST "/_matrix/client/v3/join/$(q "$SIDE")" "$BOT_TOKEN" >/dev/null

cat > "$DIR/env" <<ENV
SYNAPSE_DIR=$DIR
SYNAPSE_PORT=$PORT
MATRIX_HS=$HS
MATRIX_BOT_USER=@bot:localhost
MATRIX_BOT_PASSWORD=botpass
MATRIX_ALICE_USER=@alice:localhost
MATRIX_ALICE_TOKEN=$ALICE_TOKEN
MATRIX_BOB_USER=@bob:localhost
MATRIX_BOB_TOKEN=$BOB_TOKEN
MATRIX_CAROL_USER=@carol:localhost
MATRIX_CAROL_TOKEN=$CAROL_TOKEN
MATRIX_ROOM_OPS='$OPS'
MATRIX_ROOM_OTHER='$OTHER'
MATRIX_ROOM_SIDE='$SIDE'
ENV
echo "ready: rooms ops=$OPS other=$OTHER side=$SIDE; env in $DIR/env"
