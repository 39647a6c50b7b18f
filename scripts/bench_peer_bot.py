"""The minimal peer for scripts/bench-telegram.sh: a Telegram bot in the Python standard
library that answers /ping with "pong", one update at a time, over two kept-alive HTTP
connections (one long-polling getUpdates, one sending).

With --store PATH it also does what exactly-once needs, in one SQLite transaction per
command (WAL, synchronous=NORMAL, as Triage): the processed update id (INSERT … ON CONFLICT
DO NOTHING, which also answers "already handled?"), the cursor, and the outbox row; the sent
mark of the previous reply rides in the next command's transaction.

usage: python3 bench_peer_bot.py --api URL --token TOKEN [--store PATH] [--poll-timeout 50]
"""
import argparse
import http.client
import json
import signal
import sqlite3
import sys
import urllib.parse


def connect(api):
    u = urllib.parse.urlsplit(api)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def call(conn, token, method, body):
    data = json.dumps(body).encode()
    conn.request("POST", "/bot%s/%s" % (token, method), body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return json.loads(response.read())


def open_store(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.executescript("""
        CREATE TABLE IF NOT EXISTS processed(update_id INTEGER PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS cursor(name TEXT PRIMARY KEY, value INTEGER);
        CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, chat INTEGER, text TEXT, sent INTEGER DEFAULT 0);
    """)
    return db


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--store")
    ap.add_argument("--poll-timeout", type=int, default=50)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    poll, send = connect(args.api), connect(args.api)
    db = open_store(args.store) if args.store else None
    offset = None
    if db is not None:
        row = db.execute("SELECT value FROM cursor WHERE name = 'telegram'").fetchone()
        offset = row[0] if row else None
    last_sent = None
    while True:
        body = {"timeout": args.poll_timeout, "allowed_updates": ["message"]}
        if offset is not None:
            body["offset"] = offset
        updates = call(poll, args.token, "getUpdates", body).get("result", [])
        for u in updates:
            offset = u["update_id"] + 1
            message = u.get("message") or {}
            text = message.get("text", "")
            chat = message.get("chat", {}).get("id")
            if chat is None:
                continue
            reply = "pong" if text.startswith("/ping") else None
            if db is not None:
                db.execute("BEGIN IMMEDIATE")
                fresh = db.execute("INSERT INTO processed(update_id) VALUES (?) ON CONFLICT DO NOTHING",
                                   (u["update_id"],)).rowcount == 1
                db.execute("INSERT INTO cursor(name, value) VALUES ('telegram', ?) "
                           "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (offset,))
                if last_sent is not None:
                    db.execute("UPDATE outbox SET sent = 1 WHERE id = ?", (last_sent,))
                outbox = None
                if fresh and reply:
                    outbox = db.execute("INSERT INTO outbox(chat, text) VALUES (?, ?)", (chat, reply)).lastrowid
                db.execute("COMMIT")
                if outbox is None:
                    continue
                last_sent = outbox
            elif reply is None:
                continue
            call(send, args.token, "sendMessage", {"chat_id": chat, "text": reply,
                                                    "reply_to_message_id": message.get("message_id")})


if __name__ == "__main__":
    main()
