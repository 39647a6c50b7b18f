"""End-to-end: Telegram inline keyboards on action previews — [Confirm] [Cancel] — with the built
binary, the Telegram stand-in (callback queries, answerCallbackQuery, editMessageText) and a real
PostgreSQL. Each tap is authorized by the tapping user's role, answered at once, handled exactly
once across restarts and SIGKILL, and the preview is edited to show who decided, when, and the result.
"""
import sqlite3
import subprocess
import time

import pytest

from test_telegram import BINARY, OPERATOR, PG_URL, PRIVATE, GROUP, VIEWER, Bot, StandIn

pytestmark = pytest.mark.skipif(not BINARY or not PG_URL, reason="needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL")

FAST = "  rate_limit: {chat_interval: 0, group_per_minute: 1000, global_per_second: 1000}\n"
OPERATOR2 = 44
USERS = {OPERATOR: "operator", OPERATOR2: "operator", VIEWER: "viewer"}


def psql(sql):
    return subprocess.run(["psql", PG_URL, "-qtAc", sql], check=True, capture_output=True, text=True).stdout.strip()


def wait_for(what, check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def s():
    standin = StandIn("--chat-rate", "1000", "--chat-burst", "1000", "--group-per-minute", "100000",
                      "--callback-timeout", "3")
    yield standin
    standin.stop()


@pytest.fixture
def table():
    psql("DROP TABLE IF EXISTS btn_t; CREATE TABLE btn_t(id int PRIMARY KEY); INSERT INTO btn_t SELECT generate_series(1, 50)")
    yield "btn_t"
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")


def start(tmp_path, s):
    return Bot(tmp_path, s.url, users=USERS, extra=FAST).start()


def reply(s, chat, message_id, contains=None, timeout=30):
    return wait_for("a reply to %s containing %r" % (message_id, contains),
                    lambda: next((m for m in s.sent(chat) if m.get("reply_to") == message_id and not m.get("edited")
                                  and (contains is None or contains in m["text"])), None), timeout)


def preview(s, chat, text):
    asked = s.message(chat, OPERATOR, text)
    p = reply(s, chat, asked["message_id"], "Preview (nothing has run yet)")
    return p


def buttons(msg):
    return [b for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def state(s, chat, message_id):
    return s.call("message_state?chat_id=%d&message_id=%d" % (chat, message_id))["message"]


def edited_to(s, chat, message_id, title):
    """The message once an edit put `title` in its first line."""
    return wait_for("an edit to " + title, lambda: (lambda m: m if title in m["text"].split("\n")[0] else None)(state(s, chat, message_id)))


def answers(s, qid):
    return [a for a in s.call("answers")["answers"] if a["callback_query_id"] == qid]


def answer(s, qid, timeout=15):
    return wait_for("an answer to " + qid, lambda: next(iter(answers(s, qid)), None), timeout)


def tap(s, chat, message_id, user, button="Confirm", **kw):
    return s.call("callback", dict(chat_id=chat, message_id=message_id, from_id=user, button=button, **kw))["callback_query_id"]


def action_rows(bot):
    db = sqlite3.connect("file:%s?mode=ro" % bot.sqlite, uri=True, timeout=2)
    try:
        return db.execute("SELECT token, status, confirmedBy, result FROM pendingAction ORDER BY createdAt").fetchall()
    finally:
        db.close()


def reindexes():
    return int(psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%REINDEX INDEX CONCURRENTLY%btn_t_pkey%' AND pid <> pg_backend_pid()"))


def hold_snapshot():
    """An old snapshot that REINDEX CONCURRENTLY must wait for: the action stays running until it ends."""
    p = subprocess.Popen(["psql", PG_URL, "-qc", "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM btn_t; "
                          "SELECT pg_sleep(120); COMMIT"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return p


def release(holder):
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")
    holder.wait()


# ---------------------------------------------------------------------------------------------

def test_preview_carries_confirm_and_cancel_buttons_with_an_opaque_token(tmp_path, s, table):
    bot = start(tmp_path, s)
    try:
        p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
        bs = buttons(p)
        assert [b["text"] for b in bs] == ["Confirm", "Cancel"], p
        token = p["text"].split("/confirm ")[1][:8]
        assert [b["callback_data"] for b in bs] == ["c:" + token, "x:" + token]
        for b in bs:
            assert len(b["callback_data"].encode()) <= 64 and "reindex" not in b["callback_data"]
        assert "callback_query" in s.state()["allowed_updates"]
    finally:
        bot.stop()


def test_confirm_by_button_runs_once_answers_at_once_and_edits_the_preview(tmp_path, s, table):
    bot = start(tmp_path, s)
    try:
        p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
        qid = tap(s, PRIVATE, p["message_id"], OPERATOR)
        a = answer(s, qid)
        assert "error" not in a and not a["show_alert"] and a["text"].startswith("Confirmed"), a
        done = reply(s, PRIVATE, p["message_id"], "Done")          # the result replies to the preview
        assert "btn_t_pkey" in done["text"]
        final = edited_to(s, PRIVATE, p["message_id"], "Done")
        assert "confirmed by" in final["text"] and "@user%d" % OPERATOR in final["text"], final
        assert "finished" in final["text"] and "UTC" in final["text"]
        assert "reply_markup" not in final, final                  # the keyboard is gone
        assert len(answers(s, qid)) == 1
        assert [r[1] for r in action_rows(bot)] == ["done"]
    finally:
        bot.stop()


def test_cancel_by_button_then_a_stale_confirm_runs_nothing(tmp_path, s, table):
    bot = start(tmp_path, s)
    try:
        p = preview(s, GROUP, "/pg reindex btn_t_pkey")
        token = p["text"].split("/confirm ")[1][:8]
        qid = tap(s, GROUP, p["message_id"], OPERATOR, button="Cancel")
        assert answer(s, qid)["text"].startswith("Cancelled")
        edited = edited_to(s, GROUP, p["message_id"], "Cancelled")
        assert "cancelled by @user%d" % OPERATOR in edited["text"] and "Nothing was run" in edited["text"]
        assert "reply_markup" not in edited
        # A client that still shows the old keyboard taps Confirm.
        stale = s.call("callback", dict(chat_id=GROUP, message_id=p["message_id"], from_id=OPERATOR2, data="c:" + token))["callback_query_id"]
        a = answer(s, stale)
        assert "Already cancelled" in a["text"], a
        time.sleep(1)
        assert not [m for m in s.sent(GROUP) if "Done" in m["text"]]
        assert [r[1] for r in action_rows(bot)] == ["cancelled"]
    finally:
        bot.stop()


def test_a_viewers_tap_is_refused_with_an_alert_and_changes_nothing(tmp_path, s, table):
    bot = start(tmp_path, s)
    try:
        p = preview(s, GROUP, "/pg reindex btn_t_pkey")
        before = len(s.sent(GROUP))
        qid = tap(s, GROUP, p["message_id"], VIEWER)
        a = answer(s, qid)
        assert a["show_alert"] and "operator" in a["text"] and "viewer" in a["text"], a
        time.sleep(1)
        assert len(s.sent(GROUP)) == before                        # no reply, no edit
        assert buttons(state(s, GROUP, p["message_id"]))           # the keyboard is still there
        assert [r[1] for r in action_rows(bot)] == ["pending"]
        # An unknown button (forged data) is refused too, and nothing runs.
        forged = s.call("callback", dict(chat_id=GROUP, message_id=p["message_id"], from_id=OPERATOR, data="/pg reindex btn_t_pkey"))["callback_query_id"]
        assert answer(s, forged)["show_alert"]
        assert [r[1] for r in action_rows(bot)] == ["pending"]
        # The operator's tap still works.
        ok = tap(s, GROUP, p["message_id"], OPERATOR)
        assert answer(s, ok)["text"].startswith("Confirmed")
        reply(s, GROUP, p["message_id"], "Done")
    finally:
        bot.stop()


def test_a_second_tap_of_the_same_button_says_already_done_by_whom(tmp_path, s, table):
    bot = start(tmp_path, s)
    try:
        p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
        token = p["text"].split("/confirm ")[1][:8]
        first = tap(s, PRIVATE, p["message_id"], OPERATOR)
        reply(s, PRIVATE, p["message_id"], "Done")
        edited_to(s, PRIVATE, p["message_id"], "Done")
        count = len(s.sent(PRIVATE))
        again = s.call("callback", dict(chat_id=PRIVATE, message_id=p["message_id"], from_id=OPERATOR2, data="c:" + token))["callback_query_id"]
        a = answer(s, again)
        assert "Already done by @user%d" % OPERATOR in a["text"] and not a["show_alert"], a
        time.sleep(1)
        assert len(s.sent(PRIVATE)) == count                       # re-edit to the same text: "not modified", no new message
        assert len(answers(s, first)) == 1
        assert [r[1] for r in action_rows(bot)] == ["done"]
    finally:
        bot.stop()


def test_a_tap_after_a_restart_confirms_the_action(tmp_path, s, table):
    bot = start(tmp_path, s)
    p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
    assert bot.stop() == 0
    bot.start()
    try:
        qid = tap(s, PRIVATE, p["message_id"], OPERATOR)
        assert answer(s, qid)["text"].startswith("Confirmed")
        reply(s, PRIVATE, p["message_id"], "Done")
        assert [r[1] for r in action_rows(bot)] == ["done"]
    finally:
        bot.stop()


def test_two_people_racing_on_one_button_run_it_exactly_once(tmp_path, s, table):
    bot = start(tmp_path, s)
    holder = None
    try:
        p = preview(s, GROUP, "/pg reindex btn_t_pkey")
        holder = hold_snapshot()
        q1 = tap(s, GROUP, p["message_id"], OPERATOR)
        q2 = tap(s, GROUP, p["message_id"], OPERATOR2)
        a1, a2 = answer(s, q1), answer(s, q2)
        texts = sorted([a1["text"], a2["text"]])
        assert sum(t.startswith("Confirmed") for t in texts) == 1, texts
        assert sum(t.startswith("Already running") for t in texts) == 1, texts
        wait_for("the reindex to start", lambda: reindexes() == 1)
        time.sleep(1)
        assert reindexes() == 1
        release(holder)
        holder = None
        reply(s, GROUP, p["message_id"], "Done")
        time.sleep(1)
        assert len([m for m in s.sent(GROUP) if m["text"].startswith("Done") and not m.get("edited")]) == 1
        assert not [m for m in s.sent(GROUP) if "Interrupted" in m["text"]]
        assert [r[1] for r in action_rows(bot)] == ["done"]
    finally:
        if holder:
            release(holder)
        bot.stop()


def test_a_typed_confirm_edits_the_preview_and_its_running_notice_becomes_the_result(tmp_path, s, table):
    bot = start(tmp_path, s)
    holder = None
    try:
        p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
        token = p["text"].split("/confirm ")[1][:8]
        holder = hold_snapshot()
        c = s.message(PRIVATE, OPERATOR, "/confirm " + token)
        # Typed, like a tap: the preview shows the decision at once and loses its keyboard.
        running = edited_to(s, PRIVATE, p["message_id"], "Running (confirmed)")
        assert "reply_markup" not in running, running
        notice = reply(s, PRIVATE, c["message_id"], "Running /confirm")
        assert "started by @user%d" % OPERATOR in notice["text"]
        release(holder)
        holder = None
        # The notice becomes the result (edited in place), not a second message.
        done = edited_to(s, PRIVATE, notice["message_id"], "Done: /pg reindex btn_t_pkey")
        assert "confirmed by" in done["text"], done
        final = edited_to(s, PRIVATE, p["message_id"], "Done")
        assert "confirmed by: @user%d" % OPERATOR in final["text"] and "reply_markup" not in final, final
        time.sleep(1)
        fresh = [m for m in s.sent(PRIVATE) if m.get("reply_to") == c["message_id"] and not m.get("edited")]
        assert [m["message_id"] for m in fresh] == [notice["message_id"]], fresh
        # A restart sends nothing again: the result's outbox row is done.
        bot.stop()
        bot.start()
        s.message(PRIVATE, OPERATOR, "/ping")
        wait_for("the ping's reply", lambda: any(m["text"].startswith("pong") or "pong" in m["text"].lower() for m in s.sent(PRIVATE)))
        dones = [m for m in s.sent(PRIVATE) if m["text"].startswith("Done: /pg reindex")]
        assert [m["message_id"] for m in dones if m["message_id"] != p["message_id"]] == [notice["message_id"]], dones
        assert all(m.get("edited") for m in dones), dones
        assert [r[1] for r in action_rows(bot)] == ["done"]
    finally:
        if holder:
            release(holder)
        bot.stop()


def test_a_running_notice_whose_edit_fails_gets_the_result_as_a_reply(tmp_path, s, table):
    bot = start(tmp_path, s)
    holder = None
    try:
        p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
        token = p["text"].split("/confirm ")[1][:8]
        holder = hold_snapshot()
        c = s.message(PRIVATE, OPERATOR, "/confirm " + token)
        notice = reply(s, PRIVATE, c["message_id"], "Running /confirm")
        edited_to(s, PRIVATE, p["message_id"], "Running (confirmed)")
        # The notice was deleted meanwhile: the edit fails, the result is sent as a reply.
        s.call("delete", {"chat_id": PRIVATE, "message_id": notice["message_id"]})
        release(holder)
        holder = None
        done = reply(s, PRIVATE, c["message_id"], "Done: /pg reindex btn_t_pkey")
        assert done["message_id"] != notice["message_id"]
        assert not [m for m in s.sent(PRIVATE) if m.get("edited") and m["message_id"] == notice["message_id"]]
    finally:
        if holder:
            release(holder)
        bot.stop()


def test_a_typed_cancel_edits_the_preview_and_removes_its_keyboard(tmp_path, s, table):
    bot = start(tmp_path, s)
    try:
        p = preview(s, GROUP, "/pg reindex btn_t_pkey")
        assert buttons(p)
        c = s.message(GROUP, OPERATOR2, "/cancel")
        reply(s, GROUP, c["message_id"], "Cancelled")
        edited = edited_to(s, GROUP, p["message_id"], "Cancelled")
        assert "cancelled by @user%d" % OPERATOR2 in edited["text"] and "reply_markup" not in edited, edited
        assert [r[1] for r in action_rows(bot)] == ["cancelled"]
    finally:
        bot.stop()


def test_sigkill_between_the_tap_and_the_action_runs_it_at_most_once(tmp_path, s, table):
    bot = start(tmp_path, s)
    holder = None
    try:
        p = preview(s, PRIVATE, "/pg reindex btn_t_pkey")
        holder = hold_snapshot()
        qid = tap(s, PRIVATE, p["message_id"], OPERATOR)
        assert answer(s, qid)["text"].startswith("Confirmed")      # answered before the action ran
        running = edited_to(s, PRIVATE, p["message_id"], "Running")
        assert "reply_markup" not in running
        wait_for("the reindex to start", lambda: reindexes() == 1)
        bot.proc.kill()
        bot.proc.wait()
        bot.logfile.close()
        time.sleep(3.5)                                             # past the stand-in's callback timeout
        bot.start()
        told = reply(s, PRIVATE, p["message_id"], "Interrupted")["text"]
        assert "it may have run" in told and "Nothing was run again" in told, told
        late = answers(s, qid)
        assert len(late) == 2 and late[1].get("error", "").startswith("Bad Request: query is too old"), late
        final = edited_to(s, PRIVATE, p["message_id"], "Failed")
        assert "it may have run" in final["text"], final
        assert reindexes() <= 1                                      # the killed one's session at most; never a second
        assert not [m for m in s.sent(PRIVATE) if m["text"].startswith("Done")]
        # A tap on the same (stale) button now changes nothing.
        again = s.call("callback", dict(chat_id=PRIVATE, message_id=p["message_id"], from_id=OPERATOR, data=buttons(p)[0]["callback_data"]))["callback_query_id"]
        assert "Already done" in answer(s, again)["text"]
        assert [r[1] for r in action_rows(bot)] == ["failed"]
    finally:
        if holder:
            release(holder)
        bot.stop()


def test_a_two_person_action_cannot_be_confirmed_twice_by_the_same_person(tmp_path, s, table):
    psql("DROP TABLE IF EXISTS btn_v; CREATE TABLE btn_v(id int); INSERT INTO btn_v SELECT generate_series(1, 1000); DELETE FROM btn_v WHERE id % 2 = 0")
    bot = start(tmp_path, s)
    try:
        p = preview(s, GROUP, "/pg vacuum btn_v --full")
        first = tap(s, GROUP, p["message_id"], OPERATOR)
        assert "1 of 2" in answer(s, first)["text"]
        second = reply(s, GROUP, p["message_id"], "Confirmation 1 of 2 recorded")
        assert [b["text"] for b in buttons(second)] == ["Confirm (2 of 2)", "Cancel"], second
        spent = edited_to(s, GROUP, p["message_id"], "Confirmation 1 of 2 given")
        assert "reply_markup" not in spent
        same = tap(s, GROUP, second["message_id"], OPERATOR, button="Confirm (2 of 2)")
        a = answer(s, same)
        assert a["show_alert"] and "Another person" in a["text"], a
        time.sleep(1)
        assert not [m for m in s.sent(GROUP) if m["text"].startswith("Done")]
        other = tap(s, GROUP, second["message_id"], OPERATOR2, button="Confirm (2 of 2)")
        assert answer(s, other)["text"].startswith("Confirmed")
        reply(s, GROUP, second["message_id"], "Done")
        final = edited_to(s, GROUP, second["message_id"], "Done")
        assert "@user%d" % OPERATOR in final["text"] and "@user%d" % OPERATOR2 in final["text"], final
        assert [r[1] for r in action_rows(bot)] == ["superseded", "done"]
    finally:
        bot.stop()


PAGING = """paging:
  people:
    alice: "@alice"
    bob: {handle: "@bob", chat_ids: ["telegram:66"]}
  policies:
    database:
      levels:
        - targets: [{person: alice}]
          wait: 10m
        - targets: [{person: bob}]
          wait: 10m
"""
RESPONDER = 55
BOB = 66   # paged at level 2, a viewer: may tap [Ack] on his page, nothing else


def test_a_page_has_one_status_message_edited_as_it_escalates_and_when_acknowledged(tmp_path, s):
    users = dict(USERS)
    users[RESPONDER] = "responder"
    users[BOB] = "viewer"
    bot = Bot(tmp_path, s.url, users=users, extra=FAST + PAGING).start()
    try:
        asked = s.message(GROUP, RESPONDER, "/page database replica lag")
        started = reply(s, GROUP, asked["message_id"], "Page #1 started")
        status = wait_for("the page's status message", lambda: next((m for m in s.sent(GROUP) if "you are paged" in m["text"]
                                                                   and "level 1" in m["text"]), None))
        assert [b["text"] for b in buttons(status)] == ["Ack", "Escalate now"]
        for b in buttons(status):
            assert b["callback_data"].startswith("b:") and len(b["callback_data"]) <= 64 and "ack" not in b["callback_data"]
        assert not buttons(started)                     # the status message carries them
        # A viewer may not escalate; bob is not paged yet, so his [Ack] is refused too.
        refused = tap(s, GROUP, status["message_id"], VIEWER, button="Escalate now")
        a = answer(s, refused)
        assert a["show_alert"] and "responder" in a["text"], a
        early = tap(s, GROUP, status["message_id"], BOB, button="Ack")
        assert answer(s, early)["show_alert"]
        # [Escalate now] pages the next level at once: the status message is edited, and bob
        # is mentioned in a short reply of its own (an edit notifies nobody).
        esc = tap(s, GROUP, status["message_id"], RESPONDER, button="Escalate now")
        assert "Escalate now" in answer(s, esc)["text"]
        reply(s, GROUP, status["message_id"], "escalated")
        level2 = edited_to(s, GROUP, status["message_id"], "Page #1")
        level2 = wait_for("the status at level 2", lambda: (lambda m: m if "level 2" in m["text"] else None)(state(s, GROUP, status["message_id"])))
        assert "@bob" in level2["text"] and [b["text"] for b in buttons(level2)] == ["Ack", "Escalate now"], level2
        mention = reply(s, GROUP, status["message_id"], "@bob: you are paged (level 2)")
        assert not buttons(mention)
        assert not [m for m in s.sent(GROUP) if "you are paged" in m["text"] and "level 2" in m["text"] and buttons(m)
                    and not m.get("edited")]
        # bob, paged and only a viewer, acknowledges with [Ack]; the status says so, keyboard gone.
        ack = tap(s, GROUP, status["message_id"], BOB, button="Ack")
        assert answer(s, ack)["text"].startswith("Ack"), answers(s, ack)
        acked = reply(s, GROUP, status["message_id"], "Acknowledged")
        assert "page #1" in acked["text"] and "stopped at level 2" in acked["text"], acked
        final = edited_to(s, GROUP, status["message_id"], "Page #1 acknowledged by @user%d" % BOB)
        assert "reply_markup" not in final
        again = s.call("callback", dict(chat_id=GROUP, message_id=status["message_id"], from_id=RESPONDER,
                                        data=buttons(status)[0]["callback_data"]))["callback_query_id"]
        assert "Already done by @user%d" % BOB in answer(s, again)["text"]
        time.sleep(1)
        assert len([m for m in s.sent(GROUP) if m["text"].startswith("Acknowledged")]) == 1
        assert state(s, GROUP, status["message_id"])["text"].startswith("Page #1 acknowledged")
    finally:
        bot.stop()


def test_postmortem_is_uploaded_as_documents_with_a_caption(tmp_path, s):
    bot = Bot(tmp_path, s.url, users=USERS, extra=FAST + "postmortems: %s\n" % (tmp_path / "pm")).start()
    try:
        for text in ["/incident open sev2 Replica lag <high> & growing", "/note failing over", "/resolve replica caught up"]:
            m = s.message(GROUP, OPERATOR, text)
            reply(s, GROUP, m["message_id"])
        asked = s.message(GROUP, OPERATOR, "/postmortem")
        docs = wait_for("the uploaded files", lambda: (lambda d: d if len(d) >= 2 else None)(s.call("documents")["documents"]))
        md, svg = docs[0], docs[1]
        assert md["file_name"].endswith(".md") and md["mime_type"] == "text/markdown", md
        assert "Replica lag &lt;high&gt; &amp; growing" in md["content"] and "failing over" in md["content"]
        on_disk = {p.name: p.read_text() for p in (tmp_path / "pm").iterdir()}
        assert on_disk[md["file_name"]] == md["content"] and on_disk[svg["file_name"]] == svg["content"]   # byte for byte
        assert svg["file_name"].endswith(".svg") and svg["mime_type"] == "image/svg+xml" and svg["content"].lstrip().startswith("<")
        assert md["file_size"] == len(md["content"].encode())
        assert md["caption"].startswith("Postmortem of incident #1") and "duration" in md["caption"], md["caption"]
        assert str(tmp_path) not in md["caption"]                  # a summary, not a path on the bot's server
        assert svg["caption"] is None
        assert s.state()["calls"].get("sendDocument") == 2
        assert not [m for m in s.sent(GROUP) if m.get("reply_to") == asked["message_id"]]   # no text reply naming paths
    finally:
        bot.stop()


def test_health_and_runbook_offer_their_next_diagnostics_as_buttons(tmp_path, s, table):
    # A lock chain: /pg health flags "sessions waiting on locks" and suggests /pg locks (a
    # diagnostic: a button) and /pg terminate PID (an action with a placeholder: text only).
    holder = subprocess.Popen(["psql", PG_URL, "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True)
    holder.stdin.write("BEGIN; LOCK TABLE btn_t IN ACCESS EXCLUSIVE MODE;\n")
    holder.stdin.flush()
    time.sleep(0.5)
    waiter = subprocess.Popen(["psql", PG_URL, "-qc", "SELECT count(*) FROM btn_t"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    bot = start(tmp_path, s)
    try:
        wait_for("a session waiting on the lock", lambda: psql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM btn_t%'") == "1")
        asked = s.message(PRIVATE, VIEWER, "/pg health")
        health = reply(s, PRIVATE, asked["message_id"], "Database health")
        labels = [b["text"] for b in buttons(health)]
        assert "/pg locks" in labels, health
        for label in labels:
            assert not any(word in label for word in ("terminate", "kill-idle", "cancel", "PID")), labels
        for b in buttons(health):
            assert b["callback_data"].startswith("b:") and "pg" not in b["callback_data"]
        # A viewer's tap runs the diagnostic as the viewer.
        q = tap(s, PRIVATE, health["message_id"], VIEWER, button="/pg locks")
        assert answer(s, q)["text"].startswith("/pg locks")
        locks = reply(s, PRIVATE, health["message_id"], "Blocking tree")
        assert "btn_t" in locks["text"] or "AccessExclusiveLock" in locks["text"] or "blocked by" in locks["text"], locks
        # /runbook SYMPTOM offers the section's diagnostics that need no arguments.
        asked = s.message(PRIVATE, VIEWER, "/runbook locks")
        rb = reply(s, PRIVATE, asked["message_id"], "Runbook")
        rb_labels = [b["text"] for b in buttons(rb)]
        assert "/pg locks" in rb_labels, rb
        assert all(not l.startswith("/pg terminate") and not l.startswith("/pg rollback-prepared") for l in rb_labels), rb_labels
    finally:
        bot.stop()
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(10)
        waiter.wait(10)
