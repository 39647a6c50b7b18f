"""The outbox across restarts: a reply cut in parts resumes at the first part not sent after a
SIGKILL, and a room told to wait (429 retry_after) is not sent to before then, even by a process
started after it. The built binary against the Telegram stand-in (which refuses a send made
before its retry_after is over, as the Bot API says) and a real PostgreSQL.
"""
import time

import pytest

from test_telegram import BINARY, PG_URL, OPERATOR, PRIVATE, StandIn, Bot, replies_to
from test_telegram_faults import cleanup  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(not BINARY or not PG_URL, reason="needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL")

FAST = "  rate_limit: {chat_interval: 0, group_per_minute: 1000, global_per_second: 1000}\n"


def until(what, timeout=30, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    return what()


def kill(bot):
    bot.proc.kill()
    bot.proc.wait()
    bot.logfile.close()


def test_sigkill_between_parts_of_a_split_reply_resumes_at_the_first_unsent_part(tmp_path, cleanup):
    standin = StandIn("--chat-rate", "1000", "--chat-burst", "1000")
    cleanup.append(standin)
    bot = Bot(tmp_path, standin.url, extra=FAST).start()
    cleanup.append(bot)
    ping = standin.message(PRIVATE, OPERATOR, "/ping")
    assert replies_to(standin.wait_sent(1, timeout=30), PRIVATE, ping["message_id"])
    # The first part goes through; the second is parked at the server when Triage is killed,
    # so it never arrives (the stand-in drops a call whose client died).
    earlier = len(standin.sent(PRIVATE))
    standin.call("hold_sends", {"active": True, "after": 1})
    title = "🔥" * 3990   # 7,980 UTF-16 units: the reply has several parts
    m = standin.message(PRIVATE, OPERATOR, '/incident open sev2 "%s"' % title)
    assert until(lambda: standin.state()["parked_sends"] == 1), "the second part was never sent"
    before = standin.sent(PRIVATE)[earlier:]
    assert len(before) == 1 and before[0]["reply_to"] == m["message_id"], before
    kill(bot)
    standin.call("hold_sends", {"active": False})
    assert until(lambda: standin.state()["parked_sends"] == 0, timeout=5)
    bot.start()
    after = until(lambda: [s for s in standin.sent(PRIVATE) if s["at"] > before[0]["at"]], timeout=30)
    time.sleep(2)   # anything sent twice would be here by now
    ours = [s for s in standin.sent(PRIVATE) if s["at"] >= before[0]["at"]]
    texts = [s["text"] for s in ours]
    print("split reply across a SIGKILL: %d parts before, %d after the restart" % (len(before), len(after)))
    assert len(texts) >= 2
    assert len(set(texts)) == len(texts), "a part was sent twice: %s" % [t[:40] for t in texts]
    assert [s["text"] for s in after].count(before[0]["text"]) == 0, "the first part was sent again"
    assert sum(t.count("🔥") for t in texts) >= 3990, "all of the reply arrived"
    assert len(replies_to(ours, PRIVATE, m["message_id"])) == 1, "only the first part quotes the command"
    assert bot.stop() == 0
    assert "sending it again" in bot.output(), "the part in flight at the kill was resent"


def test_a_restart_after_a_429_waits_out_retry_after(tmp_path, cleanup):
    standin = StandIn()
    cleanup.append(standin)
    bot = Bot(tmp_path, standin.url).start()
    cleanup.append(bot)
    ping = standin.message(PRIVATE, OPERATOR, "/ping")
    assert replies_to(standin.wait_sent(1, timeout=30), PRIVATE, ping["message_id"])
    standin.call("fail", {"method": "sendMessage", "error_code": 429, "retry_after": 6})
    m = standin.message(PRIVATE, OPERATOR, "/ping")
    assert until(lambda: standin.state()["errors_sent"].get("429", 0) >= 1), "the 429 was never given"
    told_at = time.time()
    kill(bot)   # the process that was told to wait is gone; a new one starts at once
    bot.start()
    reply = until(lambda: replies_to(standin.sent(), PRIVATE, m["message_id"]), timeout=30)
    assert reply, bot.output()[-2000:]
    waited = reply[0]["at"] - told_at
    early = standin.state()["early_sends"]
    print("429 across a restart: reply %.1f s after retry_after 6, %d sends before it was over" % (waited, early))
    assert early == 0, "the restarted bot sent before retry_after was over"
    assert waited >= 5.5
    assert bot.stop() == 0
