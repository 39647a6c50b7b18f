"""Triage on Matrix, against a real Synapse homeserver on loopback (scripts/synapse.sh).

People are played with plain client-server API calls (urllib): they type commands in a room
and read the bot's replies from their own /sync, as their client would. Every assertion is on
what a person sees: the reply's body and formatted_body, and how many replies arrived.
"""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

HS = os.environ.get("MATRIX_HS")
pytestmark = pytest.mark.skipif(not HS, reason="MATRIX_HS not set: scripts/test.sh starts Synapse")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOT = "@bot:localhost"


def env(name):
    return os.environ[name]


def q(s):
    return urllib.parse.quote(s, safe="")


def api(method, path, token, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(HS + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


class Person:
    """A human's client: sends messages, reads the bot's messages from /sync."""

    FILTER = json.dumps({"room": {"timeline": {"types": ["m.room.message"], "senders": [BOT], "limit": 200},
                                  "state": {"types": []}, "ephemeral": {"types": []}},
                         "presence": {"types": []}, "account_data": {"types": []}})

    def __init__(self, who):
        self.user = env(f"MATRIX_{who}_USER")
        self.token = env(f"MATRIX_{who}_TOKEN")
        self.since = None
        self.events = []  # bot events seen: (room, event)
        self.poll(0)

    def send(self, room, body, msgtype="m.text", extra=None):
        content = {"msgtype": msgtype, "body": body}
        content.update(extra or {})
        path = f"/_matrix/client/v3/rooms/{q(room)}/send/m.room.message/{uuid.uuid4().hex}"
        return api("PUT", path, self.token, content)["event_id"]

    def poll(self, timeout_ms):
        params = {"timeout": str(timeout_ms), "filter": self.FILTER}
        if self.since:
            params["since"] = self.since
        while True:
            try:
                resp = api("GET", "/_matrix/client/v3/sync?" + urllib.parse.urlencode(params), self.token,
                           timeout=timeout_ms / 1000 + 30)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)  # the homeserver is restarting
        first = self.since is None
        self.since = resp["next_batch"]
        if first:
            return
        for room, data in resp.get("rooms", {}).get("join", {}).items():
            for ev in data.get("timeline", {}).get("events", []):
                self.events.append((room, ev))

    def replies_to(self, event_id):
        return [ev for _, ev in self.events
                if ev["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == event_id]

    def wait_reply(self, event_id, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.replies_to(event_id)
            if found:
                return found[0]
            self.poll(1000)
        raise AssertionError(f"no reply to {event_id} within {timeout}s")

    def settle(self, seconds=1.5):
        """Reads whatever else arrives for a while (to catch duplicates)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.poll(300)


class Bot:
    """`triage run` with a Matrix config, on its own timeline store."""

    def __init__(self, tmp_path, rooms, users=None, default_role="none", homeserver=None):
        """default_role=None writes no `roles:` key at all."""
        self.dir = tmp_path
        self.log_path = tmp_path / "bot.log"
        users = users or {"@alice:localhost": "operator", "@bob:localhost": "viewer"}
        self.config = tmp_path / "triage.yaml"
        self.config.write_text(
            "databases:\n"
            "  - {name: main, url_env: TRIAGE_TEST_PG_URL}\n"
            f"timeline: {tmp_path / 'timeline.sqlite'}\n"
            f"commands: {ROOT}/commands\n"
            + (f"roles: {{default: {default_role}}}\n" if default_role is not None else "")
            + "matrix:\n"
            f"  homeserver: {homeserver or HS}\n"
            f"  user_id: \"{BOT}\"\n"
            "  password_env: MATRIX_BOT_PASSWORD\n"
            f"  rooms: {json.dumps(rooms)}\n"
            f"  users: {json.dumps(users)}\n"
            "  sync_timeout: 10s\n")
        self.proc = None

    def start(self, wait_for="matrix connected"):
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        e = dict(os.environ, TRIAGE_LOG_LEVEL="debug")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([env("TRIAGE_BINARY"), "run", "--config", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e, cwd=str(self.dir))
        self.wait_log(wait_for, offset)

    def wait_log(self, text, offset=0, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log_path.read_text()[offset:]:
                return
            assert self.proc.poll() is None, "triage exited:\n" + self.log_path.read_text()[-3000:]
            time.sleep(0.05)
        raise AssertionError(f"'{text}' not in the bot's log:\n" + self.log_path.read_text()[-3000:])

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def logs(self):
        return self.log_path.read_text()


@pytest.fixture
def ops():
    return env("MATRIX_ROOM_OPS")


@pytest.fixture
def bot(tmp_path, ops):
    b = Bot(tmp_path, [ops])
    yield b
    b.stop()


def ping_answered(person, room, text="!ping"):
    eid = person.send(room, text)
    return eid, person.wait_reply(eid)


def test_first_sync_is_a_snapshot_and_ping_round_trip(bot, ops):
    alice = Person("ALICE")
    before = alice.send(ops, "!ping")             # typed while Triage is not running yet
    bot.start(wait_for="matrix first sync")
    eid, reply = ping_answered(alice, ops)
    assert reply["sender"] == BOT
    c = reply["content"]
    assert c["msgtype"] == "m.notice"
    assert c["body"].startswith("pong: Triage ")
    assert c["format"] == "org.matrix.custom.html"
    assert c["formatted_body"].startswith("<p>pong: Triage ")
    alice.settle()
    assert alice.replies_to(before) == [], "a command from before the first sync was run"
    assert len(alice.replies_to(eid)) == 1


def test_slash_prefix_tables_and_reply_fallback(bot, ops):
    bot.start(wait_for="matrix first sync")
    alice = Person("ALICE")
    eid, reply = ping_answered(alice, ops, "/help")
    c = reply["content"]
    assert "Triage commands" in c["body"] and "/ping" in c["body"]
    assert "<table><thead><tr><th>command</th>" in c["formatted_body"]
    assert "<td>/ping</td>" in c["formatted_body"]
    # A reply to the bot, with the quoted fallback that clients put before the text.
    quoted = alice.send(ops, f"> <{BOT}> pong: Triage\n> second quoted line\n\n!ping",
                        extra={"m.relates_to": {"m.in_reply_to": {"event_id": reply["event_id"]}}})
    assert alice.wait_reply(quoted)["content"]["body"].startswith("pong: Triage ")
    # Usage errors are answered too, with the text escaped in HTML.
    bad = alice.send(ops, "!help <nosuch>")
    c = alice.wait_reply(bad)["content"]
    assert "&lt;nosuch&gt;" in c["formatted_body"] and "<nosuch>" not in c["formatted_body"]


def test_database_text_is_escaped(bot, ops):
    # A session whose application_name is HTML: /pg connections lists it.
    name = "<b>evil</b> & co"
    holder = subprocess.Popen(["psql", env("TRIAGE_TEST_PG_URL"), "-c", "select pg_sleep(60)"],
                              env=dict(os.environ, PGAPPNAME=name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bot.start(wait_for="matrix first sync")
        alice = Person("ALICE")
        time.sleep(0.5)
        _, reply = ping_answered(alice, ops, "!pg connections")
        c = reply["content"]
        assert name in c["body"]                                     # plain text as is
        assert "&lt;b&gt;evil&lt;/b&gt; &amp; co" in c["formatted_body"]
        assert "<b>evil" not in c["formatted_body"]
        assert "<table>" in c["formatted_body"]
    finally:
        holder.kill()
        holder.wait()


def test_people_rooms_and_notices_without_a_role_get_nothing(bot, ops):
    bot.start(wait_for="matrix first sync")
    alice, bob, carol = Person("ALICE"), Person("BOB"), Person("CAROL")
    ignored = [
        carol.send(ops, "!ping"),                                   # no role
        bob.send(env("MATRIX_ROOM_SIDE"), "!ping"),                 # room not in config (bot is in it)
        alice.send(ops, "!ping", msgtype="m.notice"),               # bots never answer notices
    ]
    first = alice.send(ops, "!ping")
    edit = alice.send(ops, "* !ping", extra={"m.new_content": {"msgtype": "m.text", "body": "!ping"},
                                             "m.relates_to": {"rel_type": "m.replace", "event_id": first}})
    ignored.append(edit)
    viewer = bob.send(ops, "!incident open sev2 disk full")              # needs responder
    c = bob.wait_reply(viewer)["content"]
    assert "needs the responder role" in c["body"]
    sentinel = alice.send(ops, "!ping")                             # handled after all of the above
    alice.wait_reply(sentinel)
    alice.settle()
    for eid in ignored:
        assert alice.replies_to(eid) == [] and bob.replies_to(eid) == [], f"{eid} was answered"
    assert len(alice.replies_to(first)) == 1
    # The invite to a room not in config is left pending.
    member = api("GET", f"/_matrix/client/v3/rooms/{q(env('MATRIX_ROOM_OTHER'))}/state/m.room.member/{q(BOT)}",
                 env("MATRIX_ALICE_TOKEN"))
    assert member["membership"] == "invite"
    assert "matrix invite ignored: room not in config" in bot.logs()


def test_without_a_roles_key_strangers_get_nothing_and_bang_actions_confirm_once(tmp_path, ops):
    """No `roles:` key: a member listed nowhere gets no preview and no confirmation; an action
    typed with `!` is confirmed with its stored arguments and runs exactly once."""
    url = env("TRIAGE_TEST_PG_URL")
    subprocess.run(["psql", url, "-qc", "CREATE TABLE IF NOT EXISTS e2e_bang(id int); INSERT INTO e2e_bang VALUES (1)"], check=True)

    def analyzed():
        out = subprocess.run(["psql", url, "-tAc", "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'e2e_bang'"],
                             check=True, capture_output=True, text=True).stdout.strip()
        return int(out or 0)

    b = Bot(tmp_path, [ops], default_role=None)
    try:
        b.start(wait_for="matrix first sync")
        alice, carol = Person("ALICE"), Person("CAROL")
        stranger = carol.send(ops, "!pg terminate 4242")
        stranger_confirm = carol.send(ops, "/confirm abcdefgh")
        preview = alice.wait_reply(alice.send(ops, "!pg analyze e2e_bang"))["content"]["body"]
        assert "Preview (nothing has run yet): !pg analyze e2e_bang" in preview
        token = preview.split("/confirm ")[1][:8]
        before = analyzed()
        done = alice.wait_reply(alice.send(ops, f"!confirm {token}"))["content"]["body"]
        assert done.startswith("Done: !pg analyze e2e_bang"), done
        deadline = time.time() + 10
        while analyzed() == before and time.time() < deadline:
            time.sleep(0.2)   # the statistics collector reports the ANALYZE a moment later
        assert analyzed() == before + 1
        replay = alice.wait_reply(alice.send(ops, f"/confirm {token}"))["content"]["body"]
        assert "already used" in replay
        alice.settle()
        assert alice.replies_to(stranger) == [] and alice.replies_to(stranger_confirm) == []
        time.sleep(1)
        assert analyzed() == before + 1
    finally:
        b.stop()


def test_invites_to_allowed_rooms_are_joined_without_running_history(tmp_path):
    alice = Person("ALICE")
    token = env("MATRIX_ALICE_TOKEN")
    room = api("POST", "/_matrix/client/v3/createRoom", token, {"preset": "private_chat", "name": "late"})["room_id"]
    before = alice.send(room, "!ping")                              # before the bot is even invited
    b = Bot(tmp_path, [env("MATRIX_ROOM_OPS"), room])
    try:
        b.start(wait_for="matrix first sync")
        api("POST", f"/_matrix/client/v3/rooms/{q(room)}/invite", token, {"user_id": BOT})
        b.wait_log("matrix room joined")
        _, reply = ping_answered(alice, room)
        assert reply["content"]["body"].startswith("pong")
        alice.settle()
        assert alice.replies_to(before) == []
    finally:
        b.stop()


def test_bot_restart_mid_conversation_answers_each_command_once(bot, ops):
    bot.start(wait_for="matrix first sync")
    alice = Person("ALICE")
    sent = [alice.send(ops, "!ping") for _ in range(3)]
    time.sleep(0.3)
    bot.stop(signal.SIGKILL)                                        # a crash, mid-conversation
    sent += [alice.send(ops, "!ping") for _ in range(2)]    # typed while it is down
    bot.start()
    sent += [alice.send(ops, "!ping")]
    for eid in sent:
        alice.wait_reply(eid)
    bot.stop()                                                      # a graceful restart too
    sent += [alice.send(ops, "!ping")]
    bot.start()
    alice.wait_reply(sent[-1])
    alice.settle(2)
    counts = [len(alice.replies_to(e)) for e in sent]
    assert counts == [1] * len(sent), counts


def test_synapse_restart_mid_poll_is_survived(bot, ops):
    bot.start(wait_for="matrix first sync")
    alice = Person("ALICE")
    _, _ = ping_answered(alice, ops)
    time.sleep(0.5)                                                 # the bot is parked in /sync
    synapse = [os.path.join(ROOT, "scripts/synapse.sh")]
    in_flight = alice.send(ops, "!ping")
    subprocess.run(synapse + ["down", env("SYNAPSE_DIR")], check=True, timeout=60)
    time.sleep(1)
    subprocess.run(synapse + ["up", env("SYNAPSE_DIR")], check=True, timeout=120, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, TRIAGE_SYNAPSE_PORT=env("SYNAPSE_PORT")))
    after = [alice.send(ops, "!ping") for _ in range(3)]
    for eid in [in_flight] + after:
        alice.wait_reply(eid, timeout=60)
    alice.settle(2)
    assert [len(alice.replies_to(e)) for e in [in_flight] + after] == [1, 1, 1, 1]
    assert bot.proc.poll() is None
    assert "poll failed; retrying" in bot.logs()


def test_rate_limited_replies_wait_and_arrive_once(bot, ops):
    # scripts/synapse.sh limits the bot to 2 messages/s (burst 4): a burst of commands meets 429s.
    bot.start(wait_for="matrix first sync")
    alice = Person("ALICE")
    sent = [alice.send(ops, "!ping") for _ in range(10)]
    for eid in sent:
        alice.wait_reply(eid, timeout=60)
    alice.settle(1)
    assert [len(alice.replies_to(e)) for e in sent] == [1] * 10
    assert "M_LIMIT_EXCEEDED" in bot.logs()


def test_revoked_token_logs_in_again_with_the_same_device(bot, ops):
    bot.start(wait_for="matrix first sync")
    alice = Person("ALICE")
    ping_answered(alice, ops)
    admin = env("MATRIX_ALICE_TOKEN")
    devices = api("GET", f"/_synapse/admin/v2/users/{q(BOT)}/devices", admin)["devices"]
    device = [d for d in devices if d["device_id"] in bot.logs()][-1]["device_id"]
    api("DELETE", f"/_synapse/admin/v2/users/{q(BOT)}/devices/{q(device)}", admin)   # revokes its token
    eid, reply = ping_answered(alice, ops)
    assert reply["content"]["body"].startswith("pong")
    assert "logging in again" in bot.logs()
    logins = [line for line in bot.logs().splitlines() if "matrix login" in line]
    assert len(logins) == 2 and all(f"matrix.device={device}" in line for line in logins)


def closed_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_sigterm_while_the_homeserver_is_unreachable_stops_promptly(tmp_path, ops):
    b = Bot(tmp_path, [ops], homeserver="http://127.0.0.1:%d" % closed_port())
    b.start(wait_for="matrix login failed; retrying")
    time.sleep(2.5)                     # well into the login backoff (0.5 s doubling)
    started = time.monotonic()
    b.proc.send_signal(signal.SIGTERM)
    rc = b.proc.wait(timeout=20)
    took = time.monotonic() - started
    assert rc == 0, b.logs()[-2000:]
    assert took < 3.0, "took %.1fs:\n%s" % (took, b.logs()[-2000:])
    assert "triage stopped" in b.logs()


def test_sigterm_while_parked_in_sync_exits_promptly(bot, ops):
    bot.start()
    alice = Person("ALICE")
    ping_answered(alice, ops)
    time.sleep(1.0)                     # parked in /sync
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    rc = bot.proc.wait(timeout=20)
    took = time.monotonic() - started
    assert rc == 0
    assert took < 3.0, "took %.1fs:\n%s" % (took, bot.logs()[-2000:])
