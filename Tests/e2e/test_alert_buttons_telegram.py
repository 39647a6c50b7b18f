"""End to end: an alert's announcement carries [Silence 1h] [Silence 4h] [Open incident] —
the built binary, the Telegram stand-in (callback queries, answerCallbackQuery, editMessageText),
a real Alertmanager and PostgreSQL. A tap runs what the typed command would, as whoever tapped
and with their role: the silence is created in Alertmanager (API v2) with the alert's labels as
matchers for an hour, the announcement is edited to say who silenced it until when (keyboard
gone), a second tap says who did it already, a viewer's tap is refused with an alert box and
changes nothing; [Open incident] opens one incident, once."""
import calendar
import http.server
import os
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import pytest

from test_alerts_telegram import alertmanager, am_call  # noqa: F401 (a fixture)
from test_telegram import BINARY, GROUP, OPERATOR, PG_URL, VIEWER, Bot, StandIn
from test_telegram_buttons import answer, answers, buttons, reply, state, tap, wait_for

OPERATOR2 = 44
USERS = {OPERATOR: "operator", OPERATOR2: "operator", VIEWER: "viewer"}
FAST = "  rate_limit: {chat_interval: 0, group_per_minute: 1000, global_per_second: 1000}\n"
LABELS = {"alertname": "TooManyConnections", "severity": "warning", "instance": "db-main:9187"}

pytestmark = pytest.mark.skipif(not (BINARY and PG_URL and os.path.exists("/usr/bin/prometheus-alertmanager")),
                                reason="needs TRIAGE_BINARY, TRIAGE_TEST_PG_URL and prometheus-alertmanager")


@pytest.fixture
def s():
    standin = StandIn("--chat-rate", "1000", "--chat-burst", "1000", "--group-per-minute", "100000")
    yield standin
    standin.stop()


class SlowSilences:
    """A loopback proxy in front of Alertmanager that holds each POST /api/v2/silences for
    `delay` seconds: a tap's command then runs longer than the room lane's 0.5 s, so a second
    tap on the same button is handled while the first is still running."""

    def __init__(self, upstream, delay=2.0):
        self.posts = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.forward(None)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/api/v2/silences"):
                    outer.posts += 1
                    time.sleep(delay)
                self.forward(body)

            def forward(self, body):
                req = urllib.request.Request(upstream + self.path, data=body, method=self.command,
                                             headers={"Content-Type": self.headers.get("Content-Type") or "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def start(tmp_path, s, alertmanager):
    extra = FAST + f"""alerts:
  alertmanagers: ["{alertmanager}"]
  poll_interval: 1s
  routes:
    - rooms: {{telegram: "{GROUP}"}}
"""
    return Bot(tmp_path, s.url, users=USERS, extra=extra).start()


def fire(alertmanager, labels=LABELS):
    am_call(alertmanager, "/api/v2/alerts", [{"labels": labels, "annotations": {"summary": "More than 80 connections"}}])


def announcement(s):
    return wait_for("the announcement", lambda: next((m for m in s.sent(GROUP) if not m.get("edited")
                                                      and "Alert firing: TooManyConnections" in m["text"]), None), timeout=30)


def active_silences(alertmanager):
    return [x for x in am_call(alertmanager, "/api/v2/silences") if x["status"]["state"] == "active"]


def epoch(iso):
    """Alertmanager's RFC 3339 time (with fractions) as seconds since the epoch."""
    head = iso.split(".")[0].rstrip("Z")
    return calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))


def first_line(s, message_id):
    return state(s, GROUP, message_id)["text"].split("\n")[0]


def incidents(bot):
    with sqlite3.connect("file:%s?mode=ro" % bot.sqlite, uri=True, timeout=2) as db:
        return db.execute("SELECT id, title, severity, openedBy FROM incident ORDER BY id").fetchall()


def tap_data(s, a, user, index):
    """A tap on the announcement's button `index` as it was first sent (a stale keyboard)."""
    return s.call("callback", dict(chat_id=GROUP, message_id=a["message_id"], from_id=user,
                                   data=buttons(a)[index]["callback_data"]))["callback_query_id"]


def shown_once(s, a, check):
    """The announcement as it is once `check(its text)` holds."""
    return wait_for("the edit", lambda: (lambda m: m if check(m["text"]) else None)(state(s, GROUP, a["message_id"])))


def silenced(text):
    return "Silenced: TooManyConnections" in text.split("\n")[0]


@pytest.fixture
def fired(tmp_path, s, alertmanager):
    """The bot running, the alert fired, its announcement sent: (bot, announcement)."""
    bot = start(tmp_path, s, alertmanager)
    try:
        fire(alertmanager)
        yield bot, announcement(s)
    finally:
        bot.stop()


def test_silence_buttons_create_the_silence_in_alertmanager_once_and_edit_the_announcement(s, alertmanager, fired):
    bot, a = fired
    assert [b["text"] for b in buttons(a)] == ["Silence 1h", "Silence 4h", "Open incident"], a
    for b in buttons(a):   # only an opaque id of a stored row, never the command
        assert b["callback_data"].startswith("b:") and len(b["callback_data"]) <= 64 and "silence" not in b["callback_data"]

    # A viewer's tap is refused with an alert box; nothing reaches Alertmanager, no edit.
    refused = tap(s, GROUP, a["message_id"], VIEWER, button="Silence 1h")
    told = answer(s, refused)
    assert told["show_alert"] and "responder" in told["text"], told
    assert active_silences(alertmanager) == []
    assert buttons(state(s, GROUP, a["message_id"])) and "Alert firing" in first_line(s, a["message_id"])

    before = time.time()
    q = tap(s, GROUP, a["message_id"], OPERATOR, button="Silence 1h")
    assert answer(s, q)["text"].startswith("Silence 1h"), answers(s, q)
    created = reply(s, GROUP, a["message_id"], "created")          # a short reply: it notifies
    after = time.time()
    silences = active_silences(alertmanager)
    assert len(silences) == 1, silences
    sil = silences[0]
    assert sil["id"][:8] in created["text"]
    assert sil["createdBy"] == "@user%d" % OPERATOR
    assert sorted((m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in sil["matchers"]) == \
        sorted((k, v, True, False) for k, v in LABELS.items())
    assert abs(epoch(sil["endsAt"]) - epoch(sil["startsAt"]) - 3600) <= 2, sil
    assert before - 5 <= epoch(sil["endsAt"]) - 3600 <= after + 5, (before, sil, after)
    # Alertmanager applies it to the alert (the matchers are the alert's).
    wait_for("the alert silenced", lambda: any(sil["id"] in x["status"]["silencedBy"]
                                               for x in am_call(alertmanager, "/api/v2/alerts?silenced=true")))

    # The announcement says who silenced it until when; keyboard gone, what it said kept.
    edited = shown_once(s, a, silenced)
    head = edited["text"].split("\n")[0]
    assert "by @user%d" % OPERATOR in head and "until " in head, head
    assert "reply_markup" not in edited and "More than 80 connections" in edited["text"], edited
    assert sil["id"][:8] in edited["text"]

    # A second tap of the same button (a stale keyboard) says who did it, and creates nothing;
    # [Silence 4h] on the same announcement is spent too: the alert is silenced already.
    for index in (0, 1):
        again = tap_data(s, a, OPERATOR2, index)
        assert "Already done by @user%d" % OPERATOR in answer(s, again)["text"], answers(s, again)
    assert len(active_silences(alertmanager)) == 1
    assert len([m for m in s.sent(GROUP) if "created" in m["text"] and not m.get("edited")]) == 1


def test_two_people_tapping_silence_at_once_create_one_silence(tmp_path, s, alertmanager):
    slow = SlowSilences(alertmanager)
    bot = start(tmp_path, s, slow.url)
    try:
        fire(alertmanager)
        a = announcement(s)
        q1, q2 = tap_data(s, a, OPERATOR, 1), tap_data(s, a, OPERATOR2, 1)   # [Silence 4h], twice at once
        texts = sorted([answer(s, q1)["text"], answer(s, q2)["text"]])
        assert len([t for t in texts if t.startswith("Silence 4h")]) == 1, texts
        assert len([t for t in texts if t.startswith("Already")]) == 1, texts
        reply(s, GROUP, a["message_id"], "created")
        silences = active_silences(alertmanager)
        assert len(silences) == 1, silences
        assert abs(epoch(silences[0]["endsAt"]) - epoch(silences[0]["startsAt"]) - 4 * 3600) <= 2
        assert slow.posts == 1
    finally:
        bot.stop()
        slow.stop()


def test_a_typed_silence_edits_the_announcement_too(s, alertmanager, fired):
    bot, a = fired
    asked = s.message(GROUP, OPERATOR, '/silence alertname=TooManyConnections 30m "pool resized"')
    reply(s, GROUP, asked["message_id"], "created")
    assert "reply_markup" not in shown_once(s, a, silenced)
    # Its buttons are spent: a stale [Silence 1h] says who silenced it and creates nothing.
    stale = tap_data(s, a, OPERATOR2, 0)
    assert "Already done by @user%d" % OPERATOR in answer(s, stale)["text"]
    assert len(active_silences(alertmanager)) == 1


def test_open_incident_button_opens_one_incident(s, alertmanager, fired):
    bot, a = fired
    refused = tap(s, GROUP, a["message_id"], VIEWER, button="Open incident")
    assert answer(s, refused)["show_alert"]
    assert incidents(bot) == []
    q = tap(s, GROUP, a["message_id"], OPERATOR, button="Open incident")
    assert answer(s, q)["text"].startswith("Open incident"), answers(s, q)
    opened = reply(s, GROUP, a["message_id"], "Incident #1 opened")
    assert "TooManyConnections: More than 80 connections" in opened["text"], opened
    rows = incidents(bot)
    assert len(rows) == 1 and rows[0][1] == "TooManyConnections: More than 80 connections" and rows[0][3] == "@user%d" % OPERATOR, rows
    # The announcement names the incident; [Open incident] is gone, the silences stay.
    edited = shown_once(s, a, lambda text: "Incident #1 opened by @user%d" % OPERATOR in text)
    assert [b["text"] for b in buttons(edited)] == ["Silence 1h", "Silence 4h"], edited
    assert "Alert firing: TooManyConnections" in edited["text"].split("\n")[0]
    again = tap_data(s, a, OPERATOR2, 2)
    assert "Already done by @user%d" % OPERATOR in answer(s, again)["text"], answers(s, again)
    assert len(incidents(bot)) == 1
    assert len([m for m in s.sent(GROUP) if "Incident #1 opened" in m["text"] and not m.get("edited")]) == 1
    # Silencing after that keeps the incident's note in the announcement.
    tap(s, GROUP, a["message_id"], OPERATOR2, button="Silence 1h")
    reply(s, GROUP, a["message_id"], "created")
    final = shown_once(s, a, silenced)
    assert "Incident #1 opened by" in final["text"] and "reply_markup" not in final, final
