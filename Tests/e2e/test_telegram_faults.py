"""Telegram faults end to end: update ids that start again lower, an outage of the API, a hung
long-poll, and replies longer than Telegram's 4,096 UTF-16 units. The built binary against the
stand-in (tdlib semantics) and a real PostgreSQL.
"""
import socket
import time

import pytest

from test_telegram import BINARY, PG_URL, OPERATOR, PRIVATE, GROUP, StandIn, Bot, replies_to

pytestmark = pytest.mark.skipif(not BINARY or not PG_URL, reason="needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_replies(standin, chat_and_ids, timeout=20):
    """Waits until every (chat, message_id) has a reply; returns what was sent."""
    deadline = time.monotonic() + timeout
    while True:
        sent = standin.sent()
        if all(replies_to(sent, c, i) for c, i in chat_and_ids) or time.monotonic() > deadline:
            return sent
        time.sleep(0.1)


def get_updates_calls(standin):
    return standin.state()["calls"].get("getUpdates", 0)


@pytest.fixture
def cleanup():
    things = []
    yield things
    for t in things:
        if isinstance(t, Bot):
            if t.proc and t.proc.poll() is None:
                t.proc.kill()
                t.proc.wait()
        elif t.proc.poll() is None:
            t.stop()


def test_update_ids_restarting_lower_are_resynchronised_and_answered(tmp_path, cleanup):
    port = free_port()
    first = StandIn("--port", str(port), "--first-update-id", "500000")
    cleanup.append(first)
    b = Bot(tmp_path, first.url).start()
    cleanup.append(b)
    m = first.message(PRIVATE, OPERATOR, "/ping")
    assert len(replies_to(first.wait_sent(1), PRIVATE, m["message_id"])) == 1
    assert m["update_id"] == 500000
    # The API server comes back with ids far below the stored offset (500001).
    first.stop()
    second = StandIn("--port", str(port), "--first-update-id", "10", "--first-message-id", "100")
    cleanup.append(second)
    sent_ids = [second.message(PRIVATE, OPERATOR, "/ping")["message_id"],
                second.message(GROUP, OPERATOR, "/ping")["message_id"],
                second.message(PRIVATE, OPERATOR, "/help")["message_id"]]
    sent = wait_replies(second, [(PRIVATE, sent_ids[0]), (GROUP, sent_ids[1]), (PRIVATE, sent_ids[2])])
    assert len(replies_to(sent, PRIVATE, sent_ids[0])) == 1, b.output()[-3000:]
    assert len(replies_to(sent, GROUP, sent_ids[1])) == 1
    assert len(replies_to(sent, PRIVATE, sent_ids[2])) == 1
    # Later updates are answered too, and the poller is not spinning.
    calls = get_updates_calls(second)
    time.sleep(3)
    assert get_updates_calls(second) - calls <= 3, "getUpdates in a hot loop"
    m4 = second.message(PRIVATE, OPERATOR, "/ping")
    assert len(replies_to(wait_replies(second, [(PRIVATE, m4["message_id"])]), PRIVATE, m4["message_id"])) == 1
    assert second.state()["confirmed_offset"] >= 13
    assert b.stop() == 0
    out = b.output()
    assert out.count("update ids restarted below the stored offset") == 1, out[-3000:]
    assert "duplicate update ignored" not in out
    # And after a restart of the bot itself, the re-synchronised cursor is kept.
    b2 = Bot(tmp_path, second.url).start()
    cleanup.append(b2)
    m5 = second.message(PRIVATE, OPERATOR, "/ping")
    sent = wait_replies(second, [(PRIVATE, m5["message_id"])])
    assert len(replies_to(sent, PRIVATE, m5["message_id"])) == 1
    assert len([s for s in sent if s.get("reply_to") == m4["message_id"]]) == 1, "nothing answered twice"
    assert b2.stop() == 0


def test_polling_resumes_within_2s_after_an_outage(tmp_path, cleanup):
    port = free_port()
    first = StandIn("--port", str(port))
    cleanup.append(first)
    b = Bot(tmp_path, first.url).start()
    cleanup.append(b)
    m = first.message(PRIVATE, OPERATOR, "/ping")
    first.wait_sent(1)
    first.stop()
    time.sleep(20)                       # a long outage: backoff would have grown to its cap
    second = StandIn("--port", str(port), "--first-update-id", str(m["update_id"] + 1), "--first-message-id", "100")
    cleanup.append(second)
    back = time.monotonic()
    deadline = back + 10
    while get_updates_calls(second) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    resumed = time.monotonic() - back
    assert resumed <= 2.0, "polling resumed %.1f s after the outage ended" % resumed
    m2 = second.message(PRIVATE, OPERATOR, "/ping")
    assert len(replies_to(wait_replies(second, [(PRIVATE, m2["message_id"])]), PRIVATE, m2["message_id"])) == 1
    assert b.stop() == 0


def test_hung_poll_is_detected_within_a_few_seconds_of_its_timeout(tmp_path, cleanup):
    standin = StandIn()
    cleanup.append(standin)
    b = Bot(tmp_path, standin.url).start()       # poll_timeout: 5
    cleanup.append(b)
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    standin.wait_sent(1)
    time.sleep(0.5)
    standin.call("hang_polls", {"active": True})
    # The poll in flight ends normally within 5 s; the next one hangs.
    calls = get_updates_calls(standin)
    deadline = time.monotonic() + 10
    while get_updates_calls(standin) == calls and time.monotonic() < deadline:
        time.sleep(0.05)
    hung_at = time.monotonic()
    standin.call("hang_polls", {"active": False})
    hung_calls = get_updates_calls(standin)
    deadline = hung_at + 20
    while get_updates_calls(standin) == hung_calls and time.monotonic() < deadline:
        time.sleep(0.05)
    noticed = time.monotonic() - hung_at
    # Expected answer at 5 s (poll_timeout); the bot gives up and polls again a few seconds later.
    assert noticed <= 5 + 3 + 2.5, "a hung poll went unnoticed for %.1f s" % noticed
    m2 = standin.message(PRIVATE, OPERATOR, "/ping")
    assert len(replies_to(wait_replies(standin, [(PRIVATE, m2["message_id"])]), PRIVATE, m2["message_id"])) == 1
    assert b.stop() == 0


def test_emoji_heavy_reply_over_4096_utf16_units_is_delivered_in_parts(tmp_path, cleanup):
    standin = StandIn()
    cleanup.append(standin)
    b = Bot(tmp_path, standin.url).start()
    cleanup.append(b)
    # 3,990 characters, every one of them two UTF-16 units: 7,980 units of title.
    title = "🔥" * 3990
    m = standin.message(PRIVATE, OPERATOR, '/incident open sev2 "%s"' % title)
    sent = standin.wait_sent(2, timeout=30)
    parts = replies_to(sent, PRIVATE, m["message_id"])
    assert parts, "the reply was dropped: %s" % b.output()[-3000:]
    time.sleep(4)
    sent = standin.sent()
    ours = [s for s in sent if s["chat_id"] == PRIVATE and s["at"] >= parts[0]["at"]]
    assert len(ours) >= 2, "split in parts"
    assert all(len(s["text"].encode("utf-16-le")) // 2 <= 4096 for s in ours)
    assert sum(s["text"].count("🔥") for s in ours) >= 3990, "all of the title arrived"
    assert standin.state()["errors_sent"].get("400", 0) == 0, "no part was rejected as too long"
    # /incident shows the same title and is answered too.
    m2 = standin.message(PRIVATE, OPERATOR, "/incident")
    time.sleep(4)
    assert replies_to(standin.sent(), PRIVATE, m2["message_id"]), b.output()[-3000:]
    assert b.stop() == 0
    assert "message is too long" not in b.output()


def test_part_refused_as_too_long_is_cut_smaller_not_dropped(tmp_path, cleanup):
    standin = StandIn()
    cleanup.append(standin)
    standin.call("max_text", {"units": 700})     # the server counts differently from Triage
    b = Bot(tmp_path, standin.url).start()
    cleanup.append(b)
    m = standin.message(PRIVATE, OPERATOR, "/help")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        ours = [s for s in standin.sent() if s["chat_id"] == PRIVATE]
        if ours and "Type /help COMMAND" in ours[-1]["text"]:
            break
        time.sleep(0.2)
    ours = [s for s in standin.sent() if s["chat_id"] == PRIVATE]
    assert ours and ours[0].get("reply_to") == m["message_id"], b.output()[-3000:]
    assert "Type /help COMMAND" in ours[-1]["text"], "the end of the reply arrived"
    assert all(len(s["text"].encode("utf-16-le")) // 2 <= 700 for s in ours)
    assert standin.state()["errors_sent"].get("400", 0) >= 1, "the server did refuse a part"
    assert b.stop() == 0
    out = b.output()
    assert "sending it in smaller pieces" in out
    assert "reply dropped" not in out


def test_entity_offsets_near_int64_max_do_not_kill_the_bot(tmp_path, cleanup):
    standin = StandIn()
    cleanup.append(standin)
    b = Bot(tmp_path, standin.url).start()
    cleanup.append(b)
    base = {"message_id": 77, "date": int(time.time()), "chat": {"id": PRIVATE, "type": "private"},
            "from": {"id": OPERATOR, "is_bot": False, "first_name": "o"}, "text": "/ping"}
    for offset, length in [(1, 9223372036854775807), (9223372036854775807, 2), (9223372036854775806, 9223372036854775807),
                           (-9223372036854775808, 5), (0, 9223372036854775808)]:
        update = {"message": dict(base, entities=[{"type": "bot_command", "offset": offset, "length": length}])}
        standin.call("raw_update", {"update": update})
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    assert len(replies_to(wait_replies(standin, [(PRIVATE, m["message_id"])]), PRIVATE, m["message_id"])) == 1, \
        b.output()[-3000:]
    assert b.proc.poll() is None, "the bot died"
    assert b.stop() == 0
