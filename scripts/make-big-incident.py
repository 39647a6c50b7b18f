#!/usr/bin/env python3
"""Adds an incident with N timeline events to a migrated Triage timeline store (for benchmarks).

usage: make-big-incident.py STORE.sqlite N  -> prints the new incident id
"""
import sqlite3
import sys

path, count = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
t0 = 1_773_478_800.0  # 2026-03-14 09:00:00 UTC
span = 4 * 3600.0


def ts(seconds):
    # GRDB stores dates as "YYYY-MM-DD HH:MM:SS.SSS" UTC text.
    import datetime
    d = datetime.datetime.fromtimestamp(t0 + seconds, datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (d.microsecond // 1000)


cur = db.execute(
    "INSERT INTO incident(platform, room, title, severity, status, commander, openedBy, openedAt,"
    " acknowledgedAt, mitigatedAt, resolvedAt, summary, roles) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    ("bench", "bench-%d" % count, "Benchmark incident with %d events" % count, "sev1", "resolved", "@alice", "@alice",
     ts(0), ts(60), ts(7200), ts(span), "benchmark", '{"scribe":"@bob"}'))
incident = cur.lastrowid
kinds = ["note", "command", "note", "action_item", "note", "command", "role"]
rows = []
for n in range(count):
    at = ts(n * span / count)
    if n == 0:
        rows.append((incident, at, "@alice", "opened", "/incident open sev1 bench", "Opened sev1: bench", None, None))
        continue
    if n == count // 3:
        rows.append((incident, at, "@alice", "status", None, "Status investigating → identified", None,
                     '{"from":"investigating","to":"identified"}'))
        continue
    if n == count // 2:
        rows.append((incident, at, "@alice", "status", None, "Status identified → monitoring", None,
                     '{"from":"identified","to":"monitoring"}'))
        continue
    kind = kinds[n % len(kinds)]
    if kind == "command":
        rows.append((incident, at, "@user%d" % (n % 9), kind, "/pg activity --limit %d" % (n % 50),
                     "%d active sessions" % (n % 50),
                     "pid    state   seconds  query\n%d  active  %d  SELECT * FROM orders WHERE id = $1\n" % (n, n % 300), None))
    else:
        rows.append((incident, at, "@user%d" % (n % 9), kind, None,
                     "event %d: checking <the> pool & replicas | again" % n, None, None))
db.executemany("INSERT INTO timelineEvent(incidentID, at, actor, kind, command, text, output, payload)"
               " VALUES (?,?,?,?,?,?,?,?)", rows)
db.commit()
print(incident)
