"""Messages that update in place, on a real Synapse: the running notice of a slow action becomes
its result (an m.replace edit of the notice, what a client shows, not a second message), and
the preview's seeded ✅ ❌ reactions are redacted once the action is decided (typed !confirm)."""
import subprocess
import time

from test_matrix import BOT, Bot, Person, env, pytestmark  # noqa: F401 (skip without Synapse)
from test_matrix_buttons import bot_reactions, latest_edit, psql
from test_telegram_buttons import wait_for as wait


def hold_snapshot():
    """An old snapshot that REINDEX CONCURRENTLY must wait for: the action runs until it ends."""
    p = subprocess.Popen(["psql", env("TRIAGE_TEST_PG_URL"), "-qc", "BEGIN ISOLATION LEVEL REPEATABLE READ; "
                          "SELECT count(*) FROM edit_m; SELECT pg_sleep(120); COMMIT"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait("the snapshot held", lambda: psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' "
                                           "AND state = 'active' AND pid <> pg_backend_pid()") == "1")
    return p


def release(holder):
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")
    holder.wait()


def test_the_running_notice_becomes_the_result_and_the_seeded_reactions_are_redacted(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    psql("DROP TABLE IF EXISTS edit_m; CREATE TABLE edit_m(id int PRIMARY KEY); INSERT INTO edit_m SELECT generate_series(1, 50)")
    b = Bot(tmp_path, [ops])
    holder = None
    try:
        b.start(wait_for="matrix first sync")
        alice = Person("ALICE")
        preview = alice.wait_reply(alice.send(ops, "!pg reindex edit_m_pkey"))
        pid = preview["event_id"]
        assert "Preview" in preview["content"]["body"], preview["content"]["body"]
        wait("the seeded reactions", lambda: bot_reactions(alice, ops, pid) == sorted(["✅", "❌"]))
        token = preview["content"]["body"].split("/confirm ")[1][:8]
        holder = hold_snapshot()
        confirm = alice.send(ops, f"!confirm {token}")
        # Decided: the preview is edited and its reactions are redacted (no buttons any more).
        wait("the preview edited", lambda: (lambda c: c if c and "Running (confirmed)" in c["body"] else None)(
            latest_edit(alice, ops, pid)))
        wait("the seeded reactions redacted", lambda: bot_reactions(alice, ops, pid) == [])
        notice = alice.wait_reply(confirm)
        assert "Running !confirm" in notice["content"]["body"] and "started by @alice:localhost" in notice["content"]["body"], notice
        assert latest_edit(alice, ops, notice["event_id"]) is None
        release(holder)
        holder = None
        # The notice becomes the result: an m.replace whose m.new_content is the result.
        done = wait("the notice edited", lambda: (lambda c: c if c and "Done: !pg reindex edit_m_pkey" in c["body"] else None)(
            latest_edit(alice, ops, notice["event_id"])), timeout=60)
        assert "confirmed by" in done["body"] and done["msgtype"] == "m.notice" and "formatted_body" in done, done
        wait("the preview's decision", lambda: (lambda c: c if c and "Done: !pg reindex edit_m_pkey" in c["body"] else None)(
            latest_edit(alice, ops, pid)))
        alice.settle(3)
        # No second message for the result: the confirm's only reply is the notice.
        replies = [e for e in alice.replies_to(confirm) if e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"]
        assert [e["event_id"] for e in replies] == [notice["event_id"]], [e["content"]["body"][:60] for e in replies]
        assert not [e for _, e in alice.events if "Done: !pg reindex edit_m_pkey" in e["content"].get("body", "")
                    and e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"
                    and not e["content"].get("body", "").startswith("* ")]
    finally:
        if holder:
            release(holder)
        b.stop()
