"""Matrix gap filling against a real Synapse: more commands queued while Triage was down than
one sync shows (`limited: true`) are read back from the room's history and answered exactly
once, in order; commands older than `missed_max_age` get one room notice instead.
"""
import time

import pytest

from test_matrix import HS, BOT, Bot, Person, env

pytestmark = pytest.mark.skipif(not HS, reason="MATRIX_HS not set: scripts/test.sh starts Synapse")


def bot_notices(person, room):
    return [ev for r, ev in person.events if r == room and ev["sender"] == BOT
            and "m.relates_to" not in ev["content"]]


def wait_replies(person, event_ids, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(person.replies_to(e) for e in event_ids):
            return
        person.poll(1000)
    missing = [i for i, e in enumerate(event_ids) if not person.replies_to(e)]
    raise AssertionError("%d of %d commands unanswered (first: #%s)" % (len(missing), len(event_ids), missing[:5]))


def reply_order(person, event_ids):
    """The command indexes in the order their replies appear in the room."""
    index = {e: i for i, e in enumerate(event_ids)}
    order = []
    for _, ev in person.events:
        target = ev["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        if target in index:
            order.append(index[target])
    return order


def answered_once_then_stopped(bot, room):
    """Starts the bot (first sync), has one command answered, stops it: the cursor is stored."""
    bot.start(wait_for="matrix first sync")
    alice = Person("ALICE")
    first = alice.send(room, "!ping")
    alice.wait_reply(first)
    bot.stop()
    return alice, first


def test_120_commands_queued_during_downtime_are_answered_once_in_order(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    bot = Bot(tmp_path, [ops])
    try:
        alice, first = answered_once_then_stopped(bot, ops)
        queued = [alice.send(ops, "!ping") for _ in range(120)]    # timeline_limit is 50
        bot.start()
        wait_replies(alice, queued, timeout=180)
        alice.settle(3)
        counts = [len(alice.replies_to(e)) for e in queued]
        assert counts == [1] * 120, [i for i, c in enumerate(counts) if c != 1]
        assert reply_order(alice, queued) == list(range(120)), "answered out of order"
        assert len(alice.replies_to(first)) == 1
        logs = bot.logs()
        assert "matrix sync was limited" in logs
        assert "were not run" not in "".join(ev["content"]["body"] for ev in bot_notices(alice, ops))
    finally:
        bot.stop()


def test_missed_commands_older_than_missed_max_age_get_one_notice(tmp_path):
    ops = env("MATRIX_ROOM_OPS")
    bot = Bot(tmp_path, [ops])
    bot.config.write_text(bot.config.read_text() + "  missed_max_age: 8s\n")
    try:
        alice, first = answered_once_then_stopped(bot, ops)
        old = [alice.send(ops, "!ping") for _ in range(20)]
        time.sleep(10)
        recent = [alice.send(ops, "!ping") for _ in range(60)]     # 50 in the sync, 10 in the gap
        bot.start()
        wait_replies(alice, recent, timeout=120)
        alice.settle(3)
        assert [len(alice.replies_to(e)) for e in recent] == [1] * 60
        assert all(alice.replies_to(e) == [] for e in old), "a command older than missed_max_age was run"
        notices = [ev for ev in bot_notices(alice, ops) if "were not run" in ev["content"]["body"]]
        assert len(notices) == 1, [ev["content"]["body"] for ev in bot_notices(alice, ops)]
        assert "20 commands" in notices[0]["content"]["body"] or "or more" in notices[0]["content"]["body"]
        # A restart does not repeat the notice or run anything again.
        bot.stop()
        bot.start()
        again = alice.send(ops, "!ping")
        alice.wait_reply(again)
        alice.settle(2)
        assert len([ev for ev in bot_notices(alice, ops) if "were not run" in ev["content"]["body"]]) == 1
        assert all(len(alice.replies_to(e)) == 1 for e in recent)
    finally:
        bot.stop()
