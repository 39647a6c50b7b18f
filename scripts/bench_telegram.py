#!/usr/bin/env python3
"""Telegram benchmark for Triage, side by side with a minimal peer, through the Bot API stand-in.

Three bots run in turn against the same stand-in, in the same run (these machines are noisy:
read the ratios, not the absolute times):
  triage       the release binary (`triage run`), global pacing lifted;
  peer         scripts/bench_peer_bot.py: a stdlib Python bot that answers /ping, nothing else;
  peer+sqlite  the same bot doing exactly-once bookkeeping in one SQLite transaction per command.

For each: N `/ping`s one at a time, each in its own chat (Triage paces 1 message/s per chat).
The stand-in timestamps, on one clock: available (the update is queued), delivered (the
getUpdates response carrying it is written), replied (the sendMessage quoting it arrives).
own part = replied - delivered: what the bot itself spends (parse, bookkeeping, send).
Then: CPU seconds and context switches per command (from /proc, every thread), syscalls per
command (`perf stat -e raw_syscalls:sys_enter`, a separate pass so perf costs the latency
figures nothing), burst throughput (B pings to B chats at once), and, after the pings, an
idle period of long-polling: context switches per minute and RSS.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "123456:BENCH-token"
USER = 4242


def control(url, name, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + "/control/" + name, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def context_switches(pid):
    """Voluntary + involuntary context switches of every live thread, by thread id."""
    counts = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                counts[tid] = sum(int(line.split()[1]) for line in f
                                  if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
        except FileNotFoundError:
            pass
    return counts


def switches_since(before, after):
    """Switches between two snapshots: threads that started count whole; a thread that ended
    in between loses what it did after the first snapshot (an undercount, never negative)."""
    return sum(n - before.get(tid, 0) for tid, n in after.items())


def ping(url, chat):
    control(url, "message", {"chat_id": chat, "from_id": USER, "text": "/ping"})
    r = control(url, "wait_sent", {"count": 1, "chat_id": chat, "timeout": 10})
    assert len(r["sent"]) == 1 and r["sent"][0]["text"].startswith("pong"), r


def start_standin():
    standin = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/e2e/telegram_standin.py"), "--port", "0",
                                "--token", TOKEN], stdout=subprocess.PIPE, text=True)
    port = int(standin.stdout.readline().split()[1])
    return standin, "http://127.0.0.1:%d" % port


def start_bot(kind, args, url, work, chats):
    log = open(os.path.join(work, kind + ".log"), "w")
    if kind == "triage":
        config = os.path.join(work, "bench.yaml")
        with open(config, "w") as f:
            f.write("databases:\n  - url: %s\ntimeline: %s/bench.sqlite\ncommands: %s/commands\n"
                    "telegram:\n  token_env: BENCH_TOKEN\n  api_url: %s\n  poll_timeout: 50\n  chats: [%s]\n"
                    "  users: {\"%d\": viewer}\n"
                    # Pings go one at a time, far above Telegram's 30 messages/s: lift the global
                    # pacing so the figures are Triage's own latency, not the pacing's.
                    "  rate_limit: {global_per_second: 1000000}\n"
                    % (args.pg_url, work, ROOT, url, ", ".join(map(str, chats)), USER))
        argv = [args.binary, "run", "--config", config]
    else:
        argv = [sys.executable, os.path.join(HERE, "bench_peer_bot.py"), "--api", url, "--token", TOKEN]
        if kind == "peer+sqlite":
            argv += ["--store", os.path.join(work, "peer.sqlite")]
    bot = subprocess.Popen(argv, env=dict(os.environ, BENCH_TOKEN=TOKEN), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while control(url, "state")["calls"].get("getUpdates", 0) == 0:
        if time.time() > deadline or bot.poll() is not None:
            sys.exit("%s did not start; see %s/%s.log" % (kind, work, kind))
        time.sleep(0.05)
    return bot, log


def measure(kind, args, work):
    standin, url = start_standin()
    n, burst = args.pings, args.burst
    chats = [100000 + i for i in range(n + burst + 20 + args.syscall_pings)]
    bot, log = start_bot(kind, args, url, work, chats)
    out = {"bot": kind}
    try:
        warm, rest = chats[:20], chats[20:]
        for chat in warm:
            ping(url, chat)
        timed, rest = rest[:n], rest[n:]
        control(url, "reset_timings", {})
        cpu0, cs0 = cpu_seconds(bot.pid), context_switches(bot.pid)
        for chat in timed:
            ping(url, chat)
        cpu1, cs1 = cpu_seconds(bot.pid), context_switches(bot.pid)
        timings = [t for t in control(url, "timings")["timings"] if t.get("replied") is not None]
        own = [(t["replied"] - t["delivered"]) * 1000 for t in timings]
        out.update(p50=pct(own, 50), p99=pct(own, 99), cpu=(cpu1 - cpu0) / n * 1000, cs=switches_since(cs0, cs1) / n)

        counted, rest = rest[:args.syscall_pings], rest[args.syscall_pings:]
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", str(bot.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        for chat in counted:
            ping(url, chat)
        perf.send_signal(signal.SIGINT)
        _, err = perf.communicate(timeout=10)
        calls = [line.split(",")[0] for line in err.splitlines() if "raw_syscalls" in line]
        out["syscalls"] = (float(calls[0]) / len(counted)) if calls and calls[0].replace(".", "").isdigit() else float("nan")

        group = rest[:burst]
        start = time.perf_counter()
        for chat in group:
            control(url, "message", {"chat_id": chat, "from_id": USER, "text": "/ping"})
        for chat in group:
            control(url, "wait_sent", {"count": 1, "chat_id": chat, "timeout": 60})
        out["burst"] = len(group) / (time.perf_counter() - start)

        time.sleep(2)
        cs0, polls0 = context_switches(bot.pid), control(url, "state")["calls"].get("getUpdates", 0)
        time.sleep(args.idle)
        cs1, polls1 = context_switches(bot.pid), control(url, "state")["calls"].get("getUpdates", 0)
        out.update(idle_cs=switches_since(cs0, cs1) / args.idle * 60, idle_polls=polls1 - polls0, rss=rss_mib(bot.pid))
    finally:
        t = time.perf_counter()
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(20)
            out["exit"] = time.perf_counter() - t
        except subprocess.TimeoutExpired:
            bot.kill()
            out["exit"] = float("nan")
        standin.terminate()
        standin.wait(5)
        log.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build-release/release/triage"))
    ap.add_argument("--pings", type=int, default=1000)
    ap.add_argument("--syscall-pings", type=int, default=200)
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--only", help="one bot: triage, peer or peer+sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="triage-bench-tg.")
    kinds = [args.only] if args.only else ["triage", "peer", "peer+sqlite"]
    rows = [measure(k, args, work) for k in kinds]
    print("Telegram stand-in, %d /ping one at a time, %d in a burst, %.0f s idle after; logs in %s"
          % (args.pings, args.burst, args.idle, work))
    print("%-12s %9s %9s %11s %9s %9s %10s %12s %9s %8s" % ("bot", "own p50", "own p99", "CPU/cmd", "ctxsw/cmd",
                                                            "sysc/cmd", "burst/s", "idle ctxsw/min", "RSS MiB", "exit s"))
    for r in rows:
        print("%-12s %7.3fms %7.3fms %9.3fms %9.1f %9.1f %10.0f %14.0f %9.1f %8.2f"
              % (r["bot"], r["p50"], r["p99"], r["cpu"], r["cs"], r["syscalls"], r["burst"], r["idle_cs"], r["rss"], r["exit"]))
    by = {r["bot"]: r for r in rows}
    if "triage" in by and "peer" in by and "peer+sqlite" in by:
        t, p, q = by["triage"], by["peer"], by["peer+sqlite"]
        print("ratios triage/peer: own p50 %.2f, p99 %.2f, CPU/cmd %.2f; triage/peer+sqlite: own p50 %.2f, CPU/cmd %.2f; "
              "burst triage/peer %.2f"
              % (t["p50"] / p["p50"], t["p99"] / p["p99"], t["cpu"] / p["cpu"], t["p50"] / q["p50"], t["cpu"] / q["cpu"],
                 t["burst"] / p["burst"]))


if __name__ == "__main__":
    main()
