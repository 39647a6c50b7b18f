#!/usr/bin/env python3
"""Holds the live part of the demo scenario for scripts/start.sh (Python standard library only:
it speaks the PostgreSQL wire protocol itself, trust authentication on loopback).

    sessions.py HOST PORT USER DATABASE [--idle N]

Stages, then prints one line "ready" and keeps the sessions until SIGTERM or SIGHUP, or its
parent process going away (so the sessions stop with the console):

- the shop's API holding N idle connections (application_name shop-api);
- a worker's transaction left idle in transaction (shop-worker), opened before the cart
  cleanup, so the rows the cleanup deleted from cart_events stay as dead tuples VACUUM cannot
  remove (it pins the xmin horizon);
- a lock chain on orders id 1: the billing job's transaction holds the row (shop-billing, idle
  in transaction), one checkout waits on it, a second checkout waits behind the first;
- a slow query recorded in pg_stat_statements: the revenue report (shop-reports, 1.2 s), run
  while the rest is staged; "ready" waits for it.
"""
import os
import signal
import socket
import struct
import sys
import time


# The nightly revenue report, run by hand in the middle of the day.
REPORT = """SELECT c.name, count(DISTINCT o.id) AS orders, sum(oi.quantity * oi.price) AS revenue
FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN products p ON p.id = oi.product_id
  LEFT JOIN categories c ON c.id = p.category_id, pg_sleep(1.2)
WHERE o.created_at > now() - interval '1 day' GROUP BY c.name ORDER BY revenue DESC"""


class PGError(Exception):
    pass


class Session:
    """One connection: startup with trust authentication and simple queries."""

    def __init__(self, host, port, user, database, app):
        self.sock = socket.create_connection((host, port), timeout=30)
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in
                          [("user", user), ("database", database), ("application_name", app)]) + b"\0"
        self.sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        self.pid = None
        self._until_ready()

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise PGError("connection closed by the server")
            data += chunk
        return data

    def _message(self):
        kind, length = struct.unpack("!ci", self._read(5))
        return kind, self._read(length - 4)

    def _until_ready(self):
        error = None
        while True:
            kind, body = self._message()
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise PGError("the server asked for a password (the demo needs trust authentication)")
            if kind == b"K":
                self.pid = struct.unpack("!i", body[:4])[0]
            elif kind == b"E":
                fields = dict((f[:1], f[1:].decode(errors="replace")) for f in body.split(b"\0") if f)
                error = fields.get(b"M", "error")
            elif kind == b"Z":
                if error:
                    raise PGError(error)
                return

    def send(self, sql):
        body = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", 4 + len(body)) + body)

    def query(self, sql):
        self.send(sql)
        self._until_ready()

    def close(self):
        try:
            self.sock.sendall(b"X" + struct.pack("!i", 4))
        except OSError:
            pass
        self.sock.close()


def wait_until(check, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise PGError("timed out waiting for " + what)


def main():
    args = sys.argv[1:]
    idle = 40
    if "--idle" in args:
        i = args.index("--idle")
        idle = int(args[i + 1])
        del args[i:i + 2]
    host, port, user, database = args[0], int(args[1]), args[2], args[3]
    parent = os.getppid()
    sessions = []

    def connect(app):
        s = Session(host, port, user, database, app)
        sessions.append(s)
        return s

    def stop(*_):
        for s in sessions:
            s.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C in the console is for the console

    try:
        report = connect("shop-reports")
        report.send(REPORT)
        admin = connect("shop-admin")
        # The worker's transaction: a snapshot and an xid, then nothing more.
        worker = connect("shop-worker")
        worker.query("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM cart_events; SELECT txid_current();"
                     " UPDATE customers SET email = email WHERE id = 42")
        # The cleanup that runs after it: its dead rows stay, whatever VACUUM does.
        admin.query("DELETE FROM cart_events WHERE id % 10 < 7")
        admin.query("SELECT pg_stat_force_next_flush()")
        admin.query("ANALYZE cart_events")   # counts the dead rows it cannot remove
        # The lock chain on orders id 1.
        billing = connect("shop-billing")
        billing.query("BEGIN; UPDATE orders SET status = 'billing' WHERE id = 1")
        first = connect("shop-checkout")
        first.send("SET lock_timeout = 0; UPDATE orders SET status = 'paid' WHERE id = 1")

        def waiting(pid):
            def check():
                admin.send("SELECT 1 FROM pg_stat_activity WHERE pid = %d AND wait_event_type = 'Lock'" % pid)
                rows = 0
                while True:
                    kind, _ = admin._message()
                    if kind == b"D":
                        rows += 1
                    elif kind == b"Z":
                        return rows > 0
            return check

        wait_until(waiting(first.pid), "the first checkout to wait on the billing job")
        second = connect("shop-checkout")
        second.send("SET lock_timeout = 0; UPDATE orders SET status = 'cancelled' WHERE id = 1")
        wait_until(waiting(second.pid), "the second checkout to wait on the first")
        # The API's pool: idle connections that ran one query each.
        for _ in range(idle):
            connect("shop-api").query("SELECT id, price FROM products WHERE id = 1")
        report._until_ready()
        admin.query("SELECT pg_stat_force_next_flush()")
        admin.close()
        sessions.remove(admin)
    except (OSError, PGError) as e:
        print("demo sessions failed: %s" % e, file=sys.stderr, flush=True)
        for s in sessions:
            s.close()
        sys.exit(1)

    print("ready", flush=True)
    # Stay until told to stop or the parent (start.sh) is gone.
    while True:
        if os.getppid() != parent:
            stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
