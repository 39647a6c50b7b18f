"""End to end: `triage console` with a paging config against the local provider receivers.
/incident open sev1 pages PagerDuty, Opsgenie and the webhook; /ack acknowledges them."""
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BINARY = os.environ.get("TRIAGE_BINARY")
PD_KEY = "0123456789abcdef0123456789abcdef"
OG_KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"

pytestmark = pytest.mark.skipif(not BINARY, reason="TRIAGE_BINARY is not set")


@pytest.fixture
def receivers():
    proc = subprocess.Popen([sys.executable, str(HERE / "paging_receivers.py"), "--pagerduty-key", PD_KEY, "--opsgenie-key", OG_KEY],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("PORT "), line
    yield "http://127.0.0.1:%d" % int(line.split()[1])
    proc.kill()
    proc.wait()


def requests_of(base):
    with urllib.request.urlopen(base + "/_control/requests") as r:
        return json.load(r)


def wait_for(base, predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = [r for r in requests_of(base) if predicate(r)]
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out; received: %s" % json.dumps(requests_of(base))[:2000])


def config(tmp_path, base):
    db = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql://127.0.0.1:1/none")
    text = f"""
databases:
  - name: default
    url: "{db}"
timeline: {tmp_path}/timeline.sqlite
console: {{user: "@zoe", role: operator}}
paging:
  people:
    alice: {{handle: "@alice", email: alice@example.com}}
    bob: "@bob"
  schedules:
    primary:
      timezone: Europe/Berlin
      handoff: "09:00"
      rotation: 1w
      start: 2026-01-05
      people: [alice, bob]
  policies:
    database:
      levels:
        - targets: [{{schedule: primary}}]
          wait: 10m
        - targets: [{{person: bob}}]
          wait: 10m
  providers:
    pagerduty: {{routing_key_env: E2E_PD_KEY, url: "{base}"}}
    opsgenie: {{api_key_env: E2E_OG_KEY, url: "{base}"}}
    webhook: {{url: "{base}/webhook"}}
  auto_page: {{sev1: database}}
"""
    path = tmp_path / "triage.yaml"
    path.write_text(text)
    return path


def test_sev1_pages_and_ack_acknowledges(tmp_path, receivers):
    cfg = config(tmp_path, receivers)
    env = dict(os.environ, E2E_PD_KEY=PD_KEY, E2E_OG_KEY=OG_KEY, TRIAGE_LOG_LEVEL="error")
    check = subprocess.run([BINARY, "check-config", "--config", str(cfg)], env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr

    console = subprocess.Popen([BINARY, "console", "--config", str(cfg)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        console.stdin.write("/incident open sev1 Primary database down\n")
        console.stdin.flush()
        trig = wait_for(receivers, lambda r: r["service"] == "pagerduty" and r["status"] == 202
                        and r["body"].get("event_action") == "trigger")
        key = trig[0]["body"]["dedup_key"]
        assert trig[0]["body"]["payload"]["severity"] == "critical"
        assert "Primary database down" in trig[0]["body"]["payload"]["summary"]
        wait_for(receivers, lambda r: r["service"] == "opsgenie" and r["status"] == 202 and r["path"] == "/v2/alerts")
        wait_for(receivers, lambda r: r["service"] == "webhook" and r["status"] == 200 and r["body"]["status"] == "firing")

        console.stdin.write("/ack\n")
        console.stdin.flush()
        acks = wait_for(receivers, lambda r: r["service"] == "pagerduty" and r["body"].get("event_action") == "acknowledge")
        assert acks[0]["body"]["dedup_key"] == key
        assert acks[0]["status"] == 202
        og = wait_for(receivers, lambda r: r["service"] == "opsgenie" and r["path"].endswith("/acknowledge"))
        assert og[0]["query"] == "identifierType=alias"
        assert og[0]["path"] == "/v2/alerts/%s/acknowledge" % key
        assert og[0]["authorization"] == "GenieKey " + OG_KEY

        out, err = console.communicate(input="/oncall\n", timeout=60)
    finally:
        if console.poll() is None:
            console.kill()
    assert console.returncode == 0, err
    assert "Incident #1 opened" in out
    assert "you are paged" in out, out           # the chat mention, printed in the console room
    assert "Acknowledged" in out
    assert "On call at" in out
    # Exactly one trigger per provider: nothing paged twice, nothing after /ack.
    reqs = requests_of(receivers)
    assert len([r for r in reqs if r["service"] == "pagerduty" and r["body"].get("event_action") == "trigger"]) == 1
    assert len([r for r in reqs if r["service"] == "opsgenie" and r["path"] == "/v2/alerts"]) == 1

    timeline = subprocess.run([BINARY, "timeline", "1", "--config", str(cfg)], env=env, capture_output=True, text=True, timeout=60)
    assert timeline.returncode == 0, timeline.stderr
    assert "page" in timeline.stdout and "acknowledged" in timeline.stdout
    assert "delivered" in timeline.stdout


def test_check_config_reports_paging_problems(tmp_path, receivers):
    cfg = config(tmp_path, receivers)
    cfg.write_text(cfg.read_text().replace("{schedule: primary}", "{schedule: nightly}"))
    env = dict(os.environ, E2E_PD_KEY=PD_KEY, E2E_OG_KEY=OG_KEY)
    check = subprocess.run([BINARY, "check-config", "--config", str(cfg)], env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 1
    assert "unknown schedule 'nightly'" in check.stdout
    assert "triage.yaml:" in check.stdout


def test_review_tools_need_no_secrets(tmp_path, receivers):
    """`triage incidents`, `timeline` and `postmortem --config` read only the timeline: they work
    with none of the config's secret variables set (database url_env, provider keys)."""
    cfg = config(tmp_path, receivers)
    cfg.write_text(cfg.read_text().replace('url: "%s"\n' % os.environ.get("TRIAGE_TEST_PG_URL", "postgresql://127.0.0.1:1/none"),
                                           "url_env: E2E_DATABASE_URL\n", 1))
    assert "url_env: E2E_DATABASE_URL" in cfg.read_text()
    with_secrets = dict(os.environ, E2E_PD_KEY=PD_KEY, E2E_OG_KEY=OG_KEY, E2E_DATABASE_URL="postgresql://127.0.0.1:1/none",
                        TRIAGE_LOG_LEVEL="error")
    run = subprocess.run([BINARY, "console", "--config", str(cfg)], input="/incident open sev3 Disk filling up\n/resolve cleaned\n",
                         env=with_secrets, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    bare = {k: v for k, v in os.environ.items() if not k.startswith("E2E_") and k != "DATABASE_URL"}
    listing = subprocess.run([BINARY, "incidents", "--config", str(cfg)], env=bare, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert "Disk filling up" in listing.stdout
    pm = subprocess.run([BINARY, "postmortem", "1", "--config", str(cfg), "-o", "-"], env=bare, capture_output=True, text=True,
                        timeout=60)
    assert pm.returncode == 0, pm.stderr
    assert "# Postmortem: incident #1" in pm.stdout
    # The tools that do connect still insist.
    check = subprocess.run([BINARY, "console", "--config", str(cfg)], input="/ping\n", env=bare, capture_output=True, text=True,
                           timeout=60)
    assert check.returncode != 0 and "E2E_DATABASE_URL is not set" in (check.stdout + check.stderr)
