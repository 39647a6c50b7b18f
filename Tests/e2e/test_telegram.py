"""End-to-end: the built `triage` binary against the Telegram stand-in and a real PostgreSQL.

Needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL (scripts/test.sh sets both). Every test writes its
own config and SQLite file in a temporary directory.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("TRIAGE_BINARY")
PG_URL = os.environ.get("TRIAGE_TEST_PG_URL")
TOKEN = "123456:TEST-token_abc"

pytestmark = pytest.mark.skipif(not BINARY or not PG_URL, reason="needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL")

OPERATOR, VIEWER, STRANGER = 11, 22, 33
PRIVATE, GROUP = 1001, -2002


class StandIn:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "telegram_standin.py"), "--port", "0",
                                      "--token", TOKEN, *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def call(self, name, body=None, timeout=30):
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.url + "/control/" + name, data=data if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def message(self, chat, user, text, **kw):
        return self.call("message", dict(chat_id=chat, from_id=user, text=text, **kw))

    def sent(self, chat=None):
        return self.call("sent" + ("?chat_id=%d" % chat if chat is not None else ""))["sent"]

    def wait_sent(self, count, chat=None, timeout=15):
        body = {"count": count, "timeout": timeout}
        if chat is not None:
            body["chat_id"] = chat
        return self.call("wait_sent", body, timeout=timeout + 5)["sent"]

    def state(self):
        return self.call("state")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


class Bot:
    def __init__(self, tmp, api_url, chats=(PRIVATE, GROUP), users=None, token=TOKEN, env=None, extra=""):
        self.tmp = tmp
        self.sqlite = str(tmp / "triage.sqlite")
        users = users if users is not None else {OPERATOR: "operator", VIEWER: "viewer"}
        self.config = tmp / "triage.yaml"
        self.config.write_text(
            "databases:\n  - url_env: TRIAGE_TEST_PG_URL\n"
            "timeline: %s\ncommands: %s\n"
            "telegram:\n  token_env: TG_TOKEN\n  api_url: %s\n  poll_timeout: 5\n"
            "  chats: [%s]\n  users: {%s}\n%s"
            % (self.sqlite, os.path.join(ROOT, "commands"), api_url, ", ".join(map(str, chats)),
               ", ".join('"%d": %s' % kv for kv in users.items()), extra))
        self.env = dict(os.environ, TG_TOKEN=token, TRIAGE_TEST_PG_URL=PG_URL, **(env or {}))
        self.log = tmp / "triage.log"
        self.proc = None

    def start(self):
        self.logfile = open(self.log, "a")
        self.proc = subprocess.Popen([BINARY, "run", "--config", str(self.config)], env=self.env,
                                     stdout=self.logfile, stderr=subprocess.STDOUT)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        self.logfile.close()
        return self.proc.returncode

    def output(self):
        return self.log.read_text()

    def handled(self):
        """How many messages the bot has recorded as handled (read from its SQLite file)."""
        try:
            db = sqlite3.connect("file:%s?mode=ro" % self.sqlite, uri=True, timeout=1)
            try:
                return db.execute("SELECT count(*) FROM processedMessage").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            return 0


@pytest.fixture
def standin():
    s = StandIn()
    yield s
    s.stop()


@pytest.fixture
def bot(tmp_path, standin):
    bots = []

    def make(**kw):
        b = Bot(tmp_path, kw.pop("api_url", standin.url), **kw)
        bots.append(b)
        return b.start()
    yield make
    for b in bots:
        if b.proc and b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait()


def replies_to(sent, chat, message_id):
    return [m for m in sent if m["chat_id"] == chat and m.get("reply_to") == message_id]


# ---------------------------------------------------------------------------------------------

def test_two_users_in_two_chats_get_the_right_replies_and_roles_are_enforced(bot, standin):
    b = bot()
    ping = standin.message(PRIVATE, OPERATOR, "/ping")
    conns = standin.message(GROUP, VIEWER, "/pg@triage_test_bot connections")
    refused = standin.message(GROUP, VIEWER, "/incident open sev2 replica lag")
    sent = standin.wait_sent(3)
    assert len(sent) == 3, sent
    [p] = replies_to(sent, PRIVATE, ping["message_id"])
    assert p["text"].startswith("pong: Triage"), p
    [c] = replies_to(sent, GROUP, conns["message_id"])
    assert "<pre>" in c["html"] and "max_connections" in c["text"], c
    [r] = replies_to(sent, GROUP, refused["message_id"])
    assert "needs the responder role" in r["text"], r
    # the command menu was registered from the declarations
    names = [cmd["command"] for cmd in standin.state()["commands"]]
    assert names[0] == "help" and "pg" in names and "incident" in names
    assert b.stop() == 0


def test_other_chats_other_bots_and_unknown_users_get_nothing(bot, standin):
    b = bot()
    standin.message(999, OPERATOR, "/ping")                         # chat not in telegram.chats
    standin.message(PRIVATE, STRANGER, "/ping")                     # user not in telegram.users
    standin.message(GROUP, OPERATOR, "/ping@SomeOtherBot")          # for another bot
    standin.message(GROUP, OPERATOR, "I ran /ping earlier")         # chat, not a command
    last = standin.message(GROUP, OPERATOR, "\U0001F525 /ping")     # emoji before: UTF-16 offsets
    sent = standin.wait_sent(1)
    time.sleep(0.5)
    sent = standin.sent()
    assert [(m["chat_id"], m["reply_to"]) for m in sent] == [(GROUP, last["message_id"])], sent
    assert b.stop() == 0
    out = b.output()
    assert "not in telegram.chats" in out and "999" in out
    assert "not in telegram.users" in out


def test_sigkill_mid_batch_then_restart_answers_every_update_exactly_once(bot, standin, tmp_path):
    chats = [5000 + i for i in range(12)]
    standin.call("hold_sends", {"active": True})   # replies stay queued in the bot's outbox
    msgs = [standin.message(c, OPERATOR, "/pg connections") for c in chats]
    b = bot(chats=chats)
    deadline = time.monotonic() + 20
    while b.handled() < 3 and time.monotonic() < deadline:
        time.sleep(0.002)
    handled_at_kill = b.handled()
    b.proc.kill()
    b.proc.wait()
    assert handled_at_kill >= 3
    standin.call("hold_sends", {"active": False})
    b2 = bot(chats=chats)
    sent = standin.wait_sent(len(chats), timeout=30)
    time.sleep(1.0)
    sent = standin.sent()
    for chat, m in zip(chats, msgs):
        assert len(replies_to(sent, chat, m["message_id"])) == 1, (chat, sent)
    assert len(sent) == len(chats)
    assert standin.state()["pending"] == [] or standin.state()["confirmed_offset"] > msgs[-1]["update_id"]
    assert b2.stop() == 0
    print("handled before SIGKILL: %d of %d" % (handled_at_kill, len(chats)))


def test_duplicate_update_is_ignored(bot, standin):
    b = bot()
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    standin.wait_sent(1)
    standin.call("duplicate", {"update_id": m["update_id"]})
    after = standin.message(PRIVATE, VIEWER, "/help ping")
    standin.wait_sent(2, timeout=10)
    time.sleep(0.3)
    sent = standin.sent(PRIVATE)
    assert len(replies_to(sent, PRIVATE, m["message_id"])) == 1
    assert len(replies_to(sent, PRIVATE, after["message_id"])) == 1
    b.stop()


def test_429_on_send_and_on_poll_waits_retry_after(bot, standin):
    b = bot()
    standin.call("fail", {"method": "sendMessage", "error_code": 429, "retry_after": 2})
    t0 = time.monotonic()
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    sent = standin.wait_sent(1)
    assert time.monotonic() - t0 >= 1.9
    assert len(replies_to(sent, PRIVATE, m["message_id"])) == 1
    standin.call("fail", {"method": "getUpdates", "error_code": 429, "retry_after": 1})
    m2 = standin.message(GROUP, OPERATOR, "/ping")
    sent = standin.wait_sent(1, chat=GROUP)
    assert len(replies_to(sent, GROUP, m2["message_id"])) == 1
    assert standin.state()["errors_sent"]["429"] >= 2
    assert b.stop() == 0


def test_409_conflict_is_logged_and_retried_with_backoff(bot, standin):
    b = bot()
    time.sleep(0.5)
    standin.call("fail", {"method": "getUpdates", "error_code": 409, "count": 3})
    calls_before = standin.state()["calls"]["getUpdates"]
    first = standin.message(PRIVATE, OPERATOR, "/ping")    # ends the parked poll; the next three fail
    standin.wait_sent(1)
    deadline = time.monotonic() + 15
    while standin.state()["faults"] and time.monotonic() < deadline:
        time.sleep(0.1)
    second = standin.message(PRIVATE, OPERATOR, "/ping")
    sent = standin.wait_sent(2, timeout=20)
    assert len(replies_to(sent, PRIVATE, first["message_id"])) == 1
    assert len(replies_to(sent, PRIVATE, second["message_id"])) == 1
    assert standin.state()["calls"]["getUpdates"] - calls_before <= 8    # no hot loop
    b.stop()
    out = b.output()
    assert out.count("409") >= 3 and "another process is polling with this bot token" in out


def test_5xx_network_and_malformed_bodies_are_retried(bot, standin):
    b = bot()
    time.sleep(0.5)
    standin.call("fail", {"method": "getUpdates", "error_code": 502, "count": 2})
    standin.call("fail", {"method": "getUpdates", "body": "<html>upstream error</html>", "status": 200})
    standin.call("fail", {"method": "sendMessage", "error_code": 500, "count": 2})
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    sent = standin.wait_sent(1, timeout=30)
    assert len(replies_to(sent, PRIVATE, m["message_id"])) == 1
    assert b.stop() == 0


def test_malformed_update_is_skipped_without_losing_the_batch(bot, standin):
    first = standin.message(PRIVATE, OPERATOR, "/ping")
    standin.call("raw_update", {"update": {"message": {"message_id": "not a number", "chat": 5}}})
    standin.call("raw_update", {"update": [1, 2, 3], "with_id": False})
    last = standin.message(GROUP, OPERATOR, "/ping")
    b = bot()
    sent = standin.wait_sent(2)
    assert len(replies_to(sent, PRIVATE, first["message_id"])) == 1
    assert len(replies_to(sent, GROUP, last["message_id"])) == 1
    assert b.stop() == 0
    assert "malformed update skipped" in b.output()


def test_group_migrated_to_supergroup_gets_the_reply_there(bot, standin):
    old, new = -3003, -1003003
    b = bot(chats=(PRIVATE, old))
    standin.call("migrate", {"chat_id": old, "new_chat_id": new})
    m = standin.message(old, OPERATOR, "/ping")
    sent = standin.wait_sent(1, chat=new)
    assert len(sent) == 1 and sent[0]["text"].startswith("pong"), sent
    # and the supergroup is served from now on
    m2 = standin.message(new, OPERATOR, "/ping")
    sent = standin.wait_sent(2, chat=new)
    assert len(replies_to(sent, new, m2["message_id"])) == 1
    assert b.stop() == 0


def test_supergroup_migration_learned_from_a_400_survives_a_restart(bot, standin):
    old, new = -3004, -1003004
    b = bot(chats=(PRIVATE, old))
    standin.call("migrate", {"chat_id": old, "new_chat_id": new})
    standin.message(old, OPERATOR, "/ping")
    standin.wait_sent(1, chat=new)
    assert standin.state()["errors_sent"].get("400") == 1
    assert b.stop() == 0
    # After a restart the supergroup is still served (its id is not in telegram.chats) …
    b2 = bot(chats=(PRIVATE, old))
    m2 = standin.message(new, OPERATOR, "/ping")
    sent = standin.wait_sent(2, chat=new)
    assert len(replies_to(sent, new, m2["message_id"])) == 1, b2.output()
    # … roles still apply there (a viewer cannot run an operator command) …
    v = standin.message(new, VIEWER, "/incident open sev2 replica lag")
    sent = standin.wait_sent(3, chat=new)
    assert "needs the responder role" in replies_to(sent, new, v["message_id"])[0]["text"]
    # … and a late update from the old group is answered in the supergroup, without a 400.
    m3 = standin.message(old, OPERATOR, "/ping")
    sent = standin.wait_sent(4, chat=new)
    assert [m["text"][:4] for m in sent[3:]] == ["pong"], sent
    assert standin.state()["errors_sent"].get("400") == 1
    assert standin.sent(old) == []
    assert b2.stop() == 0


def test_supergroup_service_message_is_remembered_across_restarts(bot, standin, tmp_path):
    old, new = -3005, -1003005
    b = bot(chats=(PRIVATE, old))
    # Telegram's service message in the old group when it is upgraded.
    standin.message(old, OPERATOR, "", migrate_to_chat_id=new)
    standin.call("migrate", {"chat_id": old, "new_chat_id": new})
    ping = standin.message(PRIVATE, OPERATOR, "/ping")      # a marker: the update above was handled
    standin.wait_sent(1, chat=PRIVATE)
    assert b.stop() == 0
    db = sqlite3.connect(str(tmp_path / "triage.sqlite"))
    try:
        rows = db.execute("SELECT platform, fromRoom, toRoom FROM roomMigration").fetchall()
    finally:
        db.close()
    assert rows == [("telegram", str(old), str(new))]
    b2 = bot(chats=(PRIVATE, old))
    m = standin.message(new, OPERATOR, "/ping")
    sent = standin.wait_sent(1, chat=new)
    assert len(replies_to(sent, new, m["message_id"])) == 1, b2.output()
    assert b2.stop() == 0
    # A service message about a group that is not served changes nothing.
    b3 = bot(chats=(PRIVATE,))
    standin.message(-4004, OPERATOR, "", migrate_to_chat_id=-1004004)
    x = standin.message(-1004004, OPERATOR, "/ping")
    standin.message(PRIVATE, OPERATOR, "/ping")
    standin.wait_sent(2, chat=PRIVATE)
    assert standin.sent(-1004004) == []
    assert b3.stop() == 0


def test_sigterm_exits_promptly(bot, standin):
    b = bot()
    standin.message(PRIVATE, OPERATOR, "/ping")
    standin.wait_sent(1, chat=PRIVATE)
    time.sleep(1.0)                     # parked in a long poll
    started = time.monotonic()
    assert b.stop() == 0
    assert time.monotonic() - started < 3.0, b.output()


def test_403_blocked_chat_stops_sending_there_and_others_are_served(bot, standin):
    b = bot()
    standin.call("block", {"chat_id": PRIVATE})
    standin.message(PRIVATE, OPERATOR, "/ping")
    time.sleep(1.0)
    other = standin.message(GROUP, OPERATOR, "/ping")
    sent = standin.wait_sent(1, chat=GROUP)
    assert len(replies_to(sent, GROUP, other["message_id"])) == 1
    time.sleep(0.5)
    assert standin.sent(PRIVATE) == []
    assert standin.state()["errors_sent"].get("403") == 1     # dropped, not retried
    assert b.stop() == 0


def test_401_bad_token_stops_with_a_message_naming_the_config_key(tmp_path, standin):
    b = Bot(tmp_path, standin.url, token="999:wrong-token").start()
    rc = b.proc.wait(30)
    b.logfile.close()
    assert rc != 0
    out = b.output()
    assert "telegram.token_env" in out and "TG_TOKEN" in out
    assert "wrong-token" not in out


def test_401_while_polling_stops_the_bot(bot, standin):
    b = bot()
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    standin.wait_sent(1)
    standin.call("fail", {"method": "getUpdates", "error_code": 401, "description": "Unauthorized"})
    standin.message(PRIVATE, OPERATOR, "/ping")
    rc = b.proc.wait(30)
    assert rc != 0
    assert "telegram.token_env" in b.output()


def test_burst_in_one_chat_is_answered_in_order_without_429(bot, standin):
    b = bot()
    msgs = [standin.message(PRIVATE, OPERATOR, "/help ping") for _ in range(6)]
    sent = standin.wait_sent(6, chat=PRIVATE, timeout=20)
    assert [m["reply_to"] for m in sent] == [m["message_id"] for m in msgs]
    assert "429" not in standin.state()["errors_sent"]
    assert b.stop() == 0


def test_sigterm_finishes_in_flight_commands_and_exits_0(bot, standin):
    msgs = [standin.message(PRIVATE, OPERATOR, "/pg connections") for _ in range(5)]
    b = bot()
    standin.wait_sent(1, chat=PRIVATE)
    assert b.stop(signal.SIGTERM) == 0
    sent = standin.sent(PRIVATE)
    assert [m["reply_to"] for m in sent] == [m["message_id"] for m in msgs]


def test_proxy_from_environment(tmp_path, standin):
    # http_proxy: the stand-in doubles as the proxy for a host that does not resolve.
    b = Bot(tmp_path, "http://api.telegram.invalid", env={"http_proxy": standin.url, "no_proxy": ""}).start()
    try:
        m = standin.message(PRIVATE, OPERATOR, "/ping")
        sent = standin.wait_sent(1)
        assert len(replies_to(sent, PRIVATE, m["message_id"])) == 1
        assert standin.state()["proxied"] > 0
    finally:
        assert b.stop() == 0
    # no_proxy: a dead proxy is bypassed for 127.0.0.1.
    (tmp_path / "two").mkdir()
    b2 = Bot(tmp_path / "two", standin.url, env={"http_proxy": "http://127.0.0.1:9", "no_proxy": "127.0.0.1"}).start()
    try:
        m = standin.message(GROUP, OPERATOR, "/ping")
        sent = standin.wait_sent(1, chat=GROUP)
        assert len(replies_to(sent, GROUP, m["message_id"])) == 1
    finally:
        assert b2.stop() == 0
