#!/usr/bin/env python3
"""Alert benchmark for Triage against a real Alertmanager and PostgreSQL.

Latency: an alert is POSTed to Alertmanager (as Prometheus does) at a random phase of the poll
interval; the time until `triage console` prints its announcement (diagnostics included: the
alerts are HighDeadTuples, so /pg bloat, /pg vacuum-stats and /pg xmin run each time). p50/p90
over N alerts, at the default poll interval (15 s) and at 1 s.
CPU per poll: CPU seconds of the Triage process over a period of 1 s polls, divided by the
polls, with no alerts and with 1,000 active alerts (followed, routed nowhere).
Memory: RSS with no alerts and after following 10,000 fingerprints.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

from bench_telegram import pct, proc_stats  # same directory

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def post(am, alerts):
    req = urllib.request.Request(am + "/api/v2/alerts", data=json.dumps(alerts).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


class Console:
    """`triage console` with stdin held open; stdout lines collected with arrival times."""

    def __init__(self, binary, config):
        self.proc = subprocess.Popen([binary, "console", "--config", config], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, ""):
            with self.lock:
                self.lines.append((time.time(), line))

    def wait_for(self, text, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for t, line in self.lines:
                    if text in line:
                        return t
            time.sleep(0.01)
        raise SystemExit("timed out waiting for %r" % text)

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def write_config(path, pg, am, poll):
    with open(path, "w") as f:
        f.write(f"""
databases:
  - name: main
    url: "{pg}"
timeline: {os.path.dirname(path)}/timeline-{poll}.sqlite
commands: {ROOT}/commands
console: {{user: bench, role: operator}}
alerts:
  alertmanagers: ["{am}"]
  poll_interval: {poll}
  max_announcements_per_poll: 1000
  routes:
    - match: ['bench="latency"']
      rooms: {{console: console}}
""")


def latency(binary, work, pg, am, poll, seconds, n, run):
    cfg = os.path.join(work, "lat-%s.yaml" % poll)
    write_config(cfg, pg, am, poll)
    c = Console(binary, cfg)
    time.sleep(2)
    got = []
    try:
        for i in range(n):
            time.sleep(random.uniform(0, seconds))
            marker = "bench_id=%s-%d" % (run, i)
            alert = {"labels": {"alertname": "HighDeadTuples", "bench": "latency", "bench_id": "%s-%d" % (run, i),
                                "datname": "postgres", "severity": "warning"},
                     "annotations": {"summary": "bench alert %d" % i}}
            t0 = time.time()
            post(am, [alert])
            t1 = c.wait_for(marker, seconds + 30)
            got.append(t1 - t0)
    finally:
        c.stop()
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build-release/release/triage"))
    ap.add_argument("--alertmanager", required=True)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--alerts", type=int, default=20)
    ap.add_argument("--skip-default", action="store_true", help="skip the 15 s poll latency run")
    ap.add_argument("--cpu-seconds", type=float, default=30)
    args = ap.parse_args()
    am = args.alertmanager.rstrip("/")
    work = tempfile.mkdtemp(prefix="bench-alerts-")
    run = str(int(time.time()))
    print("binary %s" % args.binary)

    for poll, seconds in ([] if args.skip_default else [("15s", 15.0)]) + [("1s", 1.0)]:
        lat = latency(args.binary, work, args.pg_url, am, poll, seconds, args.alerts, run + poll)
        print("fired -> message, poll %-3s: p50 %.2f s  p90 %.2f s  max %.2f s  (n=%d)"
              % (poll, statistics.median(lat), pct(lat, 90), max(lat), len(lat)))

    # CPU per poll and memory: 1 s polls, alerts followed but routed nowhere.
    cfg = os.path.join(work, "load.yaml")
    write_config(cfg, args.pg_url, am, "1s")
    c = Console(args.binary, cfg)
    try:
        time.sleep(3)
        cpu0, rss0 = proc_stats(c.proc.pid)
        time.sleep(args.cpu_seconds)
        cpu1, rss_idle = proc_stats(c.proc.pid)
        idle_per_poll = (cpu1 - cpu0) / args.cpu_seconds
        load = [{"labels": {"alertname": "BenchLoad", "bench": "load", "n": str(i), "instance": "db-%d:9187" % (i % 50)},
                 "annotations": {"summary": "load alert %d" % i}} for i in range(1000)]
        post(am, load)
        time.sleep(5)
        cpu2, _ = proc_stats(c.proc.pid)
        time.sleep(args.cpu_seconds)
        cpu3, rss_1k = proc_stats(c.proc.pid)
        busy_per_poll = (cpu3 - cpu2) / args.cpu_seconds
        print("CPU per poll: %.1f ms with no alerts, %.1f ms with 1,000 active alerts (%.1f ms net)"
              % (idle_per_poll * 1000, busy_per_poll * 1000, (busy_per_poll - idle_per_poll) * 1000))
        for start in range(1000, 10000, 1000):
            post(am, [{"labels": {"alertname": "BenchLoad", "bench": "load", "n": str(i), "instance": "db-%d:9187" % (i % 50)},
                       "annotations": {"summary": "load alert %d" % i}} for i in range(start, start + 1000)])
        time.sleep(10)
        cpu4, rss_10k = proc_stats(c.proc.pid)
        time.sleep(10)
        cpu5, rss_10k_b = proc_stats(c.proc.pid)
        print("CPU per poll with 10,000 active alerts: %.1f ms" % ((cpu5 - cpu4) / 10 * 1000))
        print("RSS: %.1f MB idle, %.1f MB with 1,000 alerts, %.1f MB with 10,000 fingerprints"
              % (rss_idle, rss_1k, max(rss_10k, rss_10k_b)))
    finally:
        c.stop()


if __name__ == "__main__":
    main()
