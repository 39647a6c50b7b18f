"""End to end: `triage run` with a Telegram section (the Bot API stand-in) and an `alerts`
section, against a real Alertmanager. The group chat gets the announcement; /silence from
Telegram reaches Alertmanager with the Telegram user as creator (typed with matchers, and as a
reply to the alert's message); /alerts shows it silenced; the resolved notice is a reply to the
announcement (the outbox recorded which Telegram message it became); the announcement is edited
when the alert is silenced and when it resolves; a restart of the bot does not announce again."""
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from ports import loopback_port  # same directory

from test_telegram import BINARY, GROUP, OPERATOR, PG_URL, Bot, StandIn  # same directory
from test_telegram_buttons import wait_for

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "scripts" / "alertmanager.sh")
AM_PORT = loopback_port(int(os.environ.get("TRIAGE_TEST_AM_PORT", "59093")))

pytestmark = pytest.mark.skipif(not (BINARY and PG_URL and os.path.exists("/usr/bin/prometheus-alertmanager")),
                                reason="needs TRIAGE_BINARY, TRIAGE_TEST_PG_URL and prometheus-alertmanager")


def am_call(url, path, body=None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        data = r.read()
        return json.loads(data) if data else None


def reply_to(standin, message_id):
    """The bot's (unedited) reply to `message_id` in the group."""
    return wait_for("a reply to %s" % message_id, lambda: next(
        (m for m in standin.sent(GROUP) if m.get("reply_to") == message_id and not m.get("edited")), None))


def edit_of(standin, message_id, title):
    """The edit of `message_id` that put `title` in its first line."""
    return wait_for("an edit to " + title, lambda: next(
        (m for m in standin.sent(GROUP) if m.get("edited") and m["message_id"] == message_id
         and title in m["text"].split("\n")[0]), None))


@pytest.fixture
def alertmanager(tmp_path):
    d = tmp_path / "am"
    url = subprocess.run(["bash", SCRIPT, "up", str(d), str(AM_PORT)], check=True, capture_output=True, text=True).stdout.strip()
    yield url
    subprocess.run(["bash", SCRIPT, "down", str(d)], capture_output=True)


def test_run_announces_in_telegram_silences_from_telegram_and_restarts_quietly(tmp_path, alertmanager):
    standin = StandIn()
    extra = f"""alerts:
  alertmanagers: ["{alertmanager}"]
  poll_interval: 1s
  routes:
    - rooms: {{telegram: "{GROUP}"}}
"""
    bot = Bot(tmp_path, standin.url, extra=extra).start()
    try:
        am_call(alertmanager, "/api/v2/alerts", [{
            "labels": {"alertname": "TooManyConnections", "severity": "warning", "instance": "db-main:9187"},
            "annotations": {"summary": "More than 80 connections"}}])
        sent = standin.wait_sent(1, chat=GROUP, timeout=20)
        assert "Alert firing: TooManyConnections" in sent[0]["text"], sent[0]
        assert "/pg connections" in sent[0]["text"]          # the diagnostics ran
        assert "More than 80 connections" in sent[0]["text"]

        asked = standin.message(GROUP, OPERATOR, '/silence alertname=TooManyConnections 1h "pool resized"')
        created = reply_to(standin, asked["message_id"])
        assert "created" in created["text"], created
        # The announcement is edited to say who silenced it until when (keyboard gone).
        silenced = edit_of(standin, sent[0]["message_id"], "Silenced: TooManyConnections")
        assert "by @user%d" % OPERATOR in silenced["text"].split("\n")[0] and not silenced.get("reply_markup"), silenced
        silences = [s for s in am_call(alertmanager, "/api/v2/silences") if s["status"]["state"] == "active"]
        assert len(silences) == 1
        assert silences[0]["createdBy"] == "@user%d" % OPERATOR
        assert silences[0]["comment"] == "pool resized"
        assert silences[0]["matchers"] == [{"name": "alertname", "value": "TooManyConnections", "isRegex": False, "isEqual": True}]

        time.sleep(2.5)  # a poll sees the silence applied
        listing = reply_to(standin, standin.message(GROUP, OPERATOR, "/alerts")["message_id"])["text"]
        assert "silenced by " + silences[0]["id"][:8] in listing, listing

        # /silence typed as a reply to the alert's message silences that alert's labels.
        announcement = sent[0]
        standin.call("raw_update", {"update": {"message": {
            "message_id": 9001, "date": int(time.time()), "chat": {"id": GROUP, "type": "supergroup", "title": "ops"},
            "from": {"id": OPERATOR, "is_bot": False, "first_name": "op", "username": "user%d" % OPERATOR},
            "text": '/silence 30m "looking"', "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
            "reply_to_message": {"message_id": announcement["message_id"], "text": announcement["text"]}}}})
        by_reply_text = reply_to(standin, 9001)["text"]
        assert "created" in by_reply_text, by_reply_text
        silences = [s for s in am_call(alertmanager, "/api/v2/silences") if s["status"]["state"] == "active"]
        by_reply = [s for s in silences if s["comment"] == "looking"]
        assert len(by_reply) == 1, silences
        assert {m["name"]: m["value"] for m in by_reply[0]["matchers"]} == {
            "alertname": "TooManyConnections", "severity": "warning", "instance": "db-main:9187"}

        # Resolved: the notice is a reply to the announcement, and names the alert and its ref.
        am_call(alertmanager, "/api/v2/alerts", [{
            "labels": {"alertname": "TooManyConnections", "severity": "warning", "instance": "db-main:9187"},
            "annotations": {"summary": "More than 80 connections"}, "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}])
        resolved = wait_for("the resolved notice", lambda: next((m for m in standin.sent(GROUP) if not m.get("edited")
                                                                  and "Resolved after" in m["text"]), None))
        assert "Resolved after" in resolved["text"], resolved
        assert "TooManyConnections" in resolved["text"], resolved
        assert resolved["reply_to"] == announcement["message_id"], resolved
        ref = [w for w in announcement["text"].split() if w.startswith("#")]
        assert ref and ref[0] in resolved["text"], (ref, resolved)
        # The announcement itself is edited to say it is over.
        edit = edit_of(standin, announcement["message_id"], "Resolved: TooManyConnections")
        assert "More than 80 connections" in edit["text"] and "reply_markup" not in standin.call(
            "message_state?chat_id=%d&message_id=%d" % (GROUP, announcement["message_id"]))["message"]
        count = len(standin.sent(GROUP))

        # Restart: no second announcement, nothing repeated.
        assert bot.stop() == 0
        bot.start()
        time.sleep(4)
        assert len(standin.sent(GROUP)) == count, standin.sent(GROUP)
    finally:
        bot.stop()
        standin.stop()
