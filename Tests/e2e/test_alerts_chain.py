"""End to end, with real components only: PostgreSQL with 100k dead tuples and autovacuum off
-> prometheus-postgres-exporter -> Prometheus (1 s evaluation, `for: 0s` in a test copy of the
shipped rules) -> Alertmanager -> `triage console`, whose room gets one message carrying the
/pg bloat numbers. The chain must take under a minute."""
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ports import loopback_port  # same directory

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("TRIAGE_BINARY")
PG = os.environ.get("TRIAGE_TEST_PG_URL")
SCRIPT = str(ROOT / "scripts" / "alertmanager.sh")
AM_PORT = loopback_port(int(os.environ.get("TRIAGE_TEST_AM_PORT", "59093")))
PROM_PORT = loopback_port(int(os.environ.get("TRIAGE_TEST_PROM_PORT", "59090")))
EXPORTER_PORT = loopback_port(int(os.environ.get("TRIAGE_TEST_EXPORTER_PORT", "59187")))
TOOLS = ["/usr/bin/prometheus-alertmanager", "/usr/bin/prometheus", "/usr/bin/prometheus-postgres-exporter"]

pytestmark = pytest.mark.skipif(not (BINARY and PG and all(os.path.exists(t) for t in TOOLS)),
                                reason="needs TRIAGE_BINARY, TRIAGE_TEST_PG_URL and the Prometheus packages")


def psql(url, sql):
    subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True)


def sh(*args):
    return subprocess.run(["bash", SCRIPT, *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def database():
    name = "chain_%d" % (time.time_ns() % 10**9)
    psql(PG, f"CREATE DATABASE {name}")
    url = PG.rsplit("/", 1)[0] + "/" + name
    psql(url, """
        CREATE TABLE orders(id int, note text) WITH (autovacuum_enabled = false);
        INSERT INTO orders SELECT g, 'x' FROM generate_series(1, 100500) g;
        DELETE FROM orders;
    """)
    yield name, url
    psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_dead_tuples_reach_the_room_with_bloat_numbers(tmp_path, database):
    name, url = database
    mon = tmp_path / "mon"
    # The shipped rules, made to fire at once.
    rules = tmp_path / "rules.yml"
    text = (ROOT / "config/prometheus/postgres-alerts.yml").read_text()
    rules.write_text(re.sub(r"for: \S+", "for: 0s", text))
    config = tmp_path / "triage.yaml"
    config.write_text(f"""
databases:
  - name: main
    url: "{url}"
timeline: {tmp_path}/timeline.sqlite
commands: {ROOT}/commands
console: {{user: oncall, role: operator}}
alerts:
  alertmanagers: ["http://127.0.0.1:{AM_PORT}"]
  poll_interval: 1s
  filter: ['datname="{name}"']
  routes:
    - rooms: {{console: console}}
  databases:
    - match: ['datname={name}']
      target: main
""")
    started = time.time()
    proc = None
    try:
        sh("up", str(mon), str(AM_PORT))
        sh("exporter", str(mon), str(EXPORTER_PORT), url)
        sh("prometheus", str(mon), str(PROM_PORT), str(EXPORTER_PORT), str(AM_PORT), str(rules), "1s")
        proc = subprocess.Popen([BINARY, "console", "--config", str(config)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = []
        threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")), daemon=True).start()
        deadline = started + 60
        while time.time() < deadline and not any("Alert firing: HighDeadTuples" in l for l in out):
            time.sleep(0.2)
        time.sleep(0.5)  # the rest of the message
        text = "".join(out)
        elapsed = time.time() - started
        assert "Alert firing: HighDeadTuples" in text, text[-3000:]
        assert elapsed < 60, elapsed
        # The /pg bloat numbers: the table and its dead tuples, from the real database.
        assert "/pg bloat --db main" in text
        assert "public.orders" in text
        assert "100500" in text
        assert f"datname={name}" in text
        assert "Suggested: /pg vacuum public.orders --db main" in text
        # One message for the one table.
        assert text.count("Alert firing: HighDeadTuples") == 1
        print("chain wall time %.1f s" % elapsed)
    finally:
        if proc:
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["bash", SCRIPT, "down", str(mon)], capture_output=True)
