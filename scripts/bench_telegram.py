#!/usr/bin/env python3
"""Telegram round-trip and idle benchmark for Triage, through the Bot API stand-in.

Round trip: N `/ping` commands, one at a time, each in its own private chat (Triage paces
replies at 1 message/s per chat, so N pings in one chat would measure the rate limit, not
Triage). The stand-in timestamps, on one clock:
  available  the update is queued (a parked getUpdates wakes up),
  delivered  the getUpdates response carrying it is written,
  replied    the sendMessage quoting it is received.
round trip = replied - available; Triage's share = replied - delivered (parse, dispatch,
SQLite commit, outbox, render, HTTP send). Idle: CPU seconds and RSS of the bot over a
period of long-polling with no traffic (from /proc).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "123456:BENCH-token"


def control(url, name, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + "/control/" + name, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def proc_stats(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024.0
    return cpu, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build-release/release/triage"))
    ap.add_argument("--pings", type=int, default=1000)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--pg-url", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none"))
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="triage-bench-tg.")
    standin = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/e2e/telegram_standin.py"), "--port", "0",
                                "--token", TOKEN], stdout=subprocess.PIPE, text=True)
    port = int(standin.stdout.readline().split()[1])
    url = "http://127.0.0.1:%d" % port
    user = 4242
    chats = [100000 + i for i in range(args.pings + 20)]
    config = os.path.join(work, "bench.yaml")
    with open(config, "w") as f:
        f.write("databases:\n  - url: %s\ntimeline: %s/bench.sqlite\ncommands: %s/commands\n"
                "telegram:\n  token_env: BENCH_TOKEN\n  api_url: %s\n  poll_timeout: 50\n  chats: [%s]\n"
                "  users: {\"%d\": viewer}\n"
                # Pings go one at a time, far above Telegram's 30 messages/s: lift the global
                # pacing so the figures are Triage's own latency, not the pacing's.
                "  rate_limit: {global_per_second: 1000000}\n" % (args.pg_url, work, ROOT, url, ", ".join(map(str, chats)), user))
    log = open(os.path.join(work, "triage.log"), "w")
    bot = subprocess.Popen([args.binary, "run", "--config", config], env=dict(os.environ, BENCH_TOKEN=TOKEN),
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while control(url, "state")["commands"] is None:
            if time.time() > deadline or bot.poll() is not None:
                sys.exit("the bot did not start; see %s/triage.log" % work)
            time.sleep(0.05)
        # warm-up
        for chat in chats[args.pings:]:
            control(url, "message", {"chat_id": chat, "from_id": user, "text": "/ping"})
            control(url, "wait_sent", {"count": 1, "chat_id": chat, "timeout": 10})
        control(url, "reset_timings", {})
        for chat in chats[:args.pings]:
            control(url, "message", {"chat_id": chat, "from_id": user, "text": "/ping"})
            r = control(url, "wait_sent", {"count": 1, "chat_id": chat, "timeout": 10})
            assert len(r["sent"]) == 1 and r["sent"][0]["text"].startswith("pong"), r
        timings = [t for t in control(url, "timings")["timings"] if t.get("replied") is not None]
        rt = [(t["replied"] - t["available"]) * 1000 for t in timings]
        own = [(t["replied"] - t["delivered"]) * 1000 for t in timings]
        print("round trip over %d /ping (update available -> reply received), ms: p50 %.2f  p99 %.2f  max %.2f"
              % (len(rt), pct(rt, 50), pct(rt, 99), max(rt)))
        print("Triage's share (getUpdates response sent -> sendMessage received), ms: p50 %.2f  p99 %.2f  max %.2f"
              % (pct(own, 50), pct(own, 99), max(own)))
        print("stand-in's share (update queued -> getUpdates response sent), ms: p50 %.2f  p99 %.2f"
              % (pct([a - b for a, b in zip(rt, own)], 50), pct([a - b for a, b in zip(rt, own)], 99)))
        if args.idle > 0:
            time.sleep(2)
            cpu0, rss0 = proc_stats(bot.pid)
            polls0 = control(url, "state")["calls"].get("getUpdates", 0)
            time.sleep(args.idle)
            cpu1, rss1 = proc_stats(bot.pid)
            polls1 = control(url, "state")["calls"].get("getUpdates", 0)
            print("idle %.0f s of long-polling (poll_timeout 50): CPU %.3f s, RSS %.1f MB (start of idle %.1f MB), "
                  "getUpdates calls %d" % (args.idle, cpu1 - cpu0, rss1, rss0, polls1 - polls0))
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            rc = bot.wait(20)
        except subprocess.TimeoutExpired:
            bot.kill()
            rc = "killed"
        standin.terminate()
        standin.wait(5)
        log.close()
        print("bot exit status after SIGTERM: %s; log in %s/triage.log" % (rc, work))


if __name__ == "__main__":
    main()
