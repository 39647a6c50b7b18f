"""A homeserver whose event limit is lower than Triage's (413 M_TOO_LARGE): the refused part is
cut again and delivered in pieces, never dropped. A minimal fake homeserver (stdlib), the built
binary, and a real PostgreSQL for the config.
"""
import json
import os
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

BINARY = os.environ.get("TRIAGE_BINARY")
PG_URL = os.environ.get("TRIAGE_TEST_PG_URL")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.skipif(not BINARY or not PG_URL, reason="needs TRIAGE_BINARY and TRIAGE_TEST_PG_URL")

ROOM = "!room:fake"
LIMIT = 2500   # bytes of event content this homeserver accepts


class FakeHomeserver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.delivered = False
        self.accepted = []     # content dicts
        self.txns = []         # transaction ids of accepted sends
        self.refused = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        self.body()
        if self.path.endswith("/login"):
            return self.reply(200, {"access_token": "tok", "device_id": "DEV", "user_id": "@bot:fake"})
        return self.reply(200, {})

    def do_PUT(self):
        raw = self.body()
        srv = self.server
        if "/send/" in self.path:
            if len(raw) > LIMIT:
                with srv.lock:
                    srv.refused += 1
                return self.reply(413, {"errcode": "M_TOO_LARGE", "error": "event too large"})
            with srv.lock:
                srv.accepted.append(json.loads(raw))
                srv.txns.append(self.path.rsplit("/", 1)[-1])
                n = len(srv.accepted)
            return self.reply(200, {"event_id": "$sent%d" % n})
        return self.reply(200, {})

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        srv = self.server
        if "/sync" in self.path:
            since = q.get("since", [None])[0]
            if since is None:
                return self.reply(200, {"next_batch": "s1"})
            with srv.lock:
                first = not srv.delivered
                srv.delivered = True
            if first and since == "s1":
                event = {"type": "m.room.message", "event_id": "$help", "sender": "@alice:fake",
                         "origin_server_ts": int(time.time() * 1000), "content": {"msgtype": "m.text", "body": "!help"}}
                return self.reply(200, {"next_batch": "s2", "rooms": {"join": {ROOM: {"timeline": {"events": [event]}}}}})
            time.sleep(min(1.0, int(q.get("timeout", ["0"])[0]) / 1000))
            return self.reply(200, {"next_batch": "s2"})
        return self.reply(200, {})


def test_a_part_refused_as_too_large_is_cut_and_delivered(tmp_path):
    hs = FakeHomeserver()
    threading.Thread(target=hs.serve_forever, daemon=True).start()
    config = tmp_path / "triage.yaml"
    config.write_text(
        "databases:\n  - {name: main, url_env: TRIAGE_TEST_PG_URL}\n"
        f"timeline: {tmp_path / 'timeline.sqlite'}\ncommands: {ROOT}/commands\n"
        "matrix:\n"
        f"  homeserver: http://127.0.0.1:{hs.server_address[1]}\n"
        "  user_id: \"@bot:fake\"\n  password_env: FAKE_PW\n"
        f"  rooms: [\"{ROOM}\"]\n  users: {{\"@alice:fake\": operator}}\n  sync_timeout: 1s\n")
    log = open(tmp_path / "bot.log", "w")
    proc = subprocess.Popen([BINARY, "run", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, FAKE_PW="pw"))
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with hs.lock:
                bodies = [c.get("body", "") for c in hs.accepted]
            if bodies and "runbook" in "".join(bodies) and "ping" in "".join(bodies):
                time.sleep(1)
                break
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
        hs.shutdown()
    out = (tmp_path / "bot.log").read_text()
    assert hs.refused >= 1, "the homeserver refused the full reply: " + out[-2000:]
    assert len(hs.accepted) >= 2, "delivered in pieces: " + out[-2000:]
    text = "".join(c["body"] for c in hs.accepted)
    assert "/ping" in text and "/runbook" in text, "all of /help arrived"
    assert all(c["m.relates_to"]["m.in_reply_to"]["event_id"] == "$help" for c in hs.accepted)
    assert len(set(hs.txns)) == len(hs.txns), "every piece has a transaction id of its own"
    assert "smaller pieces" in out
    assert "reply dropped" not in out
    assert proc.returncode == 0
