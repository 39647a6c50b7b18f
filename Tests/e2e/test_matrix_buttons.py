"""Matrix reactions as buttons, on a real Synapse: the bot seeds ✅ ❌ on an action preview; a
person's matching reaction (m.annotation) is the tap, authorized by their role and handled once
by event id; the result is an m.replace edit of the preview plus a reply."""
import subprocess
import time
import urllib.request
import uuid

from test_matrix import BOT, Bot, Person, api, env, q, pytestmark  # noqa: F401 (skip without Synapse)
from test_telegram_buttons import wait_for as wait


def psql(sql):
    return subprocess.run(["psql", env("TRIAGE_TEST_PG_URL"), "-qtAc", sql], check=True, capture_output=True, text=True).stdout.strip()


def react(person, room, event_id, key):
    path = f"/_matrix/client/v3/rooms/{q(room)}/send/m.reaction/{uuid.uuid4().hex}"
    return api("PUT", path, person.token, {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}})["event_id"]


def relations(person, room, event_id, rel):
    return api("GET", f"/_matrix/client/v1/rooms/{q(room)}/relations/{q(event_id)}/{rel}?limit=50", person.token)["chunk"]


def latest_edit(person, room, event_id):
    """What a client shows for `event_id`: the m.new_content of the newest m.replace by the same sender."""
    edits = [e for e in relations(person, room, event_id, "m.replace") if e["sender"] == BOT]
    if not edits:
        return None
    return max(edits, key=lambda e: e["origin_server_ts"])["content"]["m.new_content"]


def analyzed():
    return int(psql("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'btn_m'") or 0)


def test_reactions_confirm_an_action_once_and_the_preview_is_edited(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    psql("CREATE TABLE IF NOT EXISTS btn_m(id int); INSERT INTO btn_m VALUES (1)")
    b = Bot(tmp_path, [ops])
    try:
        b.start(wait_for="matrix first sync")
        alice, bob = Person("ALICE"), Person("BOB")
        preview = alice.wait_reply(alice.send(ops, "!pg analyze btn_m"))
        pid = preview["event_id"]
        assert "Or react: ✅ Confirm, ❌ Cancel." in preview["content"]["body"]
        seeded = wait("the seeded reactions", lambda: (lambda keys: keys if len(keys) == 2 else None)(
            sorted(e["content"]["m.relates_to"]["key"] for e in relations(alice, ops, pid, "m.annotation") if e["sender"] == BOT)))
        assert seeded == sorted(["✅", "❌"]), seeded
        before = analyzed()
        # A viewer's reaction does nothing: no reply, no edit, nothing run.
        react(bob, ops, pid, "✅")
        alice.settle(3)
        assert [e for _, e in alice.events if e["content"].get("m.relates_to", {}).get("event_id") == pid] == []
        assert alice.replies_to(pid) == []
        assert analyzed() == before
        # A reaction that stands for no button (👍) does nothing either.
        react(alice, ops, pid, "👍")
        alice.settle(2)
        assert alice.replies_to(pid) == []
        # The operator's ✅ is the tap.
        tap = react(alice, ops, pid, "✅")
        done = alice.wait_reply(pid)                                   # a short reply, so notifications fire
        assert "Done: !pg analyze btn_m" in done["content"]["body"], done["content"]["body"]
        shown = wait("the edit", lambda: (lambda c: c if c and "Done: !pg analyze btn_m" in c["body"] else None)(latest_edit(alice, ops, pid)))
        assert "confirmed by  @alice:localhost" in shown["body"], shown
        assert shown["msgtype"] == "m.notice" and "formatted_body" in shown
        wait("the ANALYZE to be counted", lambda: analyzed() == before + 1, timeout=10)
        # A second reaction event (the ✅ taken back and given again) runs nothing again.
        api("PUT", f"/_matrix/client/v3/rooms/{q(ops)}/redact/{q(tap)}/{uuid.uuid4().hex}", alice.token, {})
        react(alice, ops, pid, "✅")
        alice.settle(3)
        assert len(alice.replies_to(pid)) == 1
        time.sleep(1)
        assert analyzed() == before + 1
        # Typed /confirm keeps working next to the reactions.
        again = alice.wait_reply(alice.send(ops, "!pg analyze btn_m"))
        token = again["content"]["body"].split("/confirm ")[1][:8]
        typed = alice.wait_reply(alice.send(ops, f"!confirm {token}"))
        assert "Done: !pg analyze btn_m" in typed["content"]["body"]
    finally:
        b.stop()


def test_a_cancel_reaction_cancels_and_the_edit_says_who(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    psql("CREATE TABLE IF NOT EXISTS btn_m(id int)")
    b = Bot(tmp_path, [ops])
    try:
        b.start(wait_for="matrix first sync")
        alice = Person("ALICE")
        pid = alice.wait_reply(alice.send(ops, "!pg analyze btn_m"))["event_id"]
        wait("the seeded reactions", lambda: len(relations(alice, ops, pid, "m.annotation")) == 2)
        before = analyzed()
        react(alice, ops, pid, "❌")
        told = alice.wait_reply(pid)
        assert "Cancelled" in told["content"]["body"]
        shown = wait("the edit", lambda: (lambda c: c if c and "Cancelled" in c["body"] else None)(latest_edit(alice, ops, pid)))
        assert "cancelled by @alice:localhost" in shown["body"] and "Nothing was run" in shown["body"]
        react(alice, ops, pid, "✅")                                 # too late: nothing runs
        alice.settle(3)
        assert analyzed() == before
        assert len(alice.replies_to(pid)) == 1
    finally:
        b.stop()


def test_postmortem_file_is_downloadable_from_the_media_repository(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    b = Bot(tmp_path, [ops])
    try:
        b.start(wait_for="matrix first sync")
        alice = Person("ALICE")
        for text in ["!incident open sev3 Disk <filling> & slow", "!note cleaned WAL", "!resolve space freed"]:
            alice.wait_reply(alice.send(ops, text))
        asked = alice.send(ops, "!postmortem")
        caption = alice.wait_reply(asked)["content"]
        assert caption["msgtype"] == "m.notice" and caption["body"].startswith("Postmortem of incident #"), caption
        assert str(tmp_path) not in caption["body"]
        def files_seen():
            alice.poll(500)
            found = [e["content"] for _, e in alice.events if e["content"].get("msgtype") == "m.file"]
            return found if len(found) >= 2 else None
        files = wait("the m.file events", files_seen)
        md = [f for f in files if f["body"].endswith(".md")][-1]   # the newest (the room is shared with earlier tests)
        assert md["url"].startswith("mxc://") and md["info"]["mimetype"] == "text/markdown"
        server, media = md["url"][len("mxc://"):].split("/", 1)
        req = urllib.request.Request(f"{env('MATRIX_HS')}/_matrix/client/v1/media/download/{q(server)}/{q(media)}",
                                     headers={"Authorization": "Bearer " + alice.token})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read().decode()
        on_disk = (tmp_path / "postmortems" / md["body"]).read_text()
        assert body == on_disk and "Disk &lt;filling&gt; &amp; slow" in body and "cleaned WAL" in body
        assert md["info"]["size"] == len(on_disk.encode())
        assert any(f["body"].endswith(".svg") and f["info"]["mimetype"] == "image/svg+xml" for f in files)
    finally:
        b.stop()


PAGING = """paging:
  people:
    alice: "@alice:localhost"
  policies:
    database:
      levels:
        - targets: [{person: alice}]
          wait: 10m
"""


def bot_reactions(person, room, event_id):
    """The keys of the bot's reactions on `event_id` still standing (a redacted one is gone)."""
    return sorted(e["content"]["m.relates_to"]["key"] for e in relations(person, room, event_id, "m.annotation") if e["sender"] == BOT)


def first_message(person, room, check):
    """The first bot message in `room` (not an edit) whose body passes `check`."""
    def seen():
        person.poll(500)
        return next((e for r, e in person.events if r == room and check(e["content"].get("body", ""))
                     and e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"), None)
    return wait("a bot message", seen)


def test_an_eyes_reaction_acknowledges_a_page_and_its_status_message_is_edited(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    b = Bot(tmp_path, [ops])
    b.config.write_text(b.config.read_text() + PAGING)
    try:
        b.start(wait_for="matrix first sync")
        alice, bob = Person("ALICE"), Person("BOB")
        # The room is shared with earlier tests (and their page #1): this page's summary is its own.
        summary = "disk filling " + uuid.uuid4().hex[:8]
        started = alice.wait_reply(alice.send(ops, "!page database " + summary))
        assert "Page #1 started" in started["content"]["body"], started
        # One status message per page and room carries the buttons (the /page reply does not).
        status = first_message(alice, ops, lambda body: "you are paged" in body and summary in body)
        sid = status["event_id"]
        assert "👀 Ack" in status["content"]["body"], status["content"]["body"]
        wait("the seeded reactions", lambda: bot_reactions(alice, ops, sid) == sorted(["👀", "⏩"]))
        react(bob, ops, sid, "👀")                                     # a viewer (not paged): nothing happens
        alice.settle(3)
        assert alice.replies_to(sid) == [] and latest_edit(alice, ops, sid) is None
        tapped = react(alice, ops, sid, "👀")
        acked = alice.wait_reply(sid)                                  # the short reply notifies
        assert "Acknowledged" in acked["content"]["body"], acked
        # The status message is edited (an m.replace, what a client shows) to say who acknowledged.
        shown = wait("the edit", lambda: (lambda c: c if c and "Page #1 acknowledged by @alice:localhost" in c["body"] else None)(
            latest_edit(alice, ops, sid)))
        assert shown["msgtype"] == "m.notice" and "formatted_body" in shown, shown
        # No buttons left: the bot's seeded reactions are redacted.
        wait("the seeded reactions redacted", lambda: bot_reactions(alice, ops, sid) == [])
        # A second 👀 (taken back and given again: another reaction event) acknowledges nothing again.
        api("PUT", f"/_matrix/client/v3/rooms/{q(ops)}/redact/{q(tapped)}/{uuid.uuid4().hex}", alice.token, {})
        react(alice, ops, sid, "👀")
        alice.settle(3)
        assert len([e for e in alice.replies_to(sid) if "Acknowledged" in e["content"]["body"]]) == 1
    finally:
        b.stop()
